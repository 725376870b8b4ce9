// Q6_K weights: super-blocks of 256 in 210 bytes (128 bytes ql, 64 bytes qh, 16 signed scales, f16 d),
// w = d * sc * (q - 32). Element 128h + 32r + l (h < 2, r < 4, l < 32): low 4 bits from ql[64h + 32(r&1) + l]
// (high nibble when r >= 2), top 2 bits from qh[32h + l] >> 2r; scale index 8h + 2r + l/16.
const BLOCK_BYTES: u32 = 210u;

fn chunk_dot(rbase: u32, c: u32, xbase: u32) -> f32 {
  let b = rbase + (c >> 3u) * 210u;
  let h = (c >> 2u) & 1u;
  let r = c & 3u;
  let ql = b + 64u * h + (r & 1u) * 32u;
  let qh = b + 128u + 32u * h;
  let nshift = (r >> 1u) * 4u;
  let hshift = 2u * r;
  var dot0 = 0i;
  var dot1 = 0i;
  for (var k = 0u; k < 8u; k++) {
    let q = ((w_u32(ql + 4u * k) >> nshift) & 0x0f0f0f0fu) | (((w_u32(qh + 4u * k) >> hshift) & 0x03030303u) << 4u);
    let x = x_word(xbase, c, k);
    let v = dot4I8Packed(q, x) - 32 * byte_sum(x);
    if (k < 4u) {
      dot0 += v;
    } else {
      dot1 += v;
    }
  }
  let si = b + 192u + 8u * h + 2u * r;
  return half_to_f32(w_u16(b + 208u)) * x_scale(xbase, c) * f32(w_i8(si) * dot0 + w_i8(si + 1u) * dot1);
}

fn weight_value(rbase: u32, j: u32) -> f32 {
  let b = rbase + (j >> 8u) * 210u;
  let e = j & 255u;
  let h = e >> 7u;
  let r = (e >> 5u) & 3u;
  let l = e & 31u;
  let lo = (w_u8(b + 64u * h + (r & 1u) * 32u + l) >> ((r >> 1u) * 4u)) & 15u;
  let hi = (w_u8(b + 128u + 32u * h + l) >> (2u * r)) & 3u;
  let q = i32(lo | (hi << 4u)) - 32;
  return half_to_f32(w_u16(b + 208u)) * f32(w_i8(b + 192u + 8u * h + 2u * r + l / 16u)) * f32(q);
}
