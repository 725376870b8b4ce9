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

// For matvec_k.wgsl, the CPU's int32 lane l of one super-block (at byte b; activation chunks c0..c0+7):
// -32 * (scale_2l * bsum_2l + scale_2l+1 * bsum_2l+1) over 16-value groups (its madd lane), plus
// Σ over h < 2, k < 4 of scale_g * (values 128h + 32k + 4l..+3) . x with g = 8h + 2k (+1 for l >= 4).
const KQ_MINS: bool = false;
fn kq_d(b: u32) -> f32 {
  return half_to_f32(w_u16(b + 208u));
}
fn kq_dmin(b: u32) -> f32 {
  return 0.0;
}
fn kq_lane(b: u32, l: u32, xbase: u32, c0: u32) -> vec2<i32> {
  var bs0 = 0i;
  var bs1 = 0i;
  for (var k = 0u; k < 4u; k++) {
    bs0 += byte_sum(x_word(xbase, c0 + l, k));
    bs1 += byte_sum(x_word(xbase, c0 + l, 4u + k));
  }
  var isum = -32 * (w_i8(b + 192u + 2u * l) * bs0 + w_i8(b + 193u + 2u * l) * bs1);
  let hi_half = select(0u, 1u, l >= 4u);
  for (var h = 0u; h < 2u; h++) {
    for (var k = 0u; k < 4u; k++) {
      let q = ((w_u32(b + 64u * h + (k & 1u) * 32u + 4u * l) >> ((k >> 1u) * 4u)) & 0x0f0f0f0fu) |
              (((w_u32(b + 128u + 32u * h + 4u * l) >> (2u * k)) & 0x03030303u) << 4u);
      isum += w_i8(b + 192u + 8u * h + 2u * k + hi_half) * dot4I8Packed(q, x_word(xbase, c0 + 4u * h + k, l));
    }
  }
  return vec2<i32>(isum, 0);
}

// For matvec_k_decode.wgsl: kq_lane with each quant word read once for both of its nibbles and the
// activation group sums taken from `g` (groups 4(l/2)..4(l/2)+3; lane l needs groups 2l and 2l+1).
fn kq_group_base(l: u32) -> u32 {
  return 4u * (l >> 1u);
}
fn kq_lane_g(b: u32, l: u32, xbase: u32, c0: u32, g: vec4<i32>) -> vec2<i32> {
  let odd = (l & 1u) == 1u;
  let bs0 = select(g.x, g.z, odd);
  let bs1 = select(g.y, g.w, odd);
  var isum = -32 * (w_i8(b + 192u + 2u * l) * bs0 + w_i8(b + 193u + 2u * l) * bs1);
  let hi_half = select(0u, 1u, l >= 4u);
  for (var h = 0u; h < 2u; h++) {
    let qh = w_u32(b + 128u + 32u * h + 4u * l);
    for (var k = 0u; k < 2u; k++) {
      let ql = w_u32(b + 64u * h + 32u * k + 4u * l);
      let qa = (ql & 0x0f0f0f0fu) | (((qh >> (2u * k)) & 0x03030303u) << 4u);
      let qb = ((ql >> 4u) & 0x0f0f0f0fu) | (((qh >> (2u * k + 4u)) & 0x03030303u) << 4u);
      isum += w_i8(b + 192u + 8u * h + 2u * k + hi_half) * dot4I8Packed(qa, x_word(xbase, c0 + 4u * h + k, l));
      isum += w_i8(b + 196u + 8u * h + 2u * k + hi_half) * dot4I8Packed(qb, x_word(xbase, c0 + 4u * h + k + 2u, l));
    }
  }
  return vec2<i32>(isum, 0);
}
