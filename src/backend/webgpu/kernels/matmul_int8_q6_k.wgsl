// Q6_K for matmul_int8.wgsl: 210-byte super-blocks (not always on a word); sub-block k = 4h + j takes its
// low 4 bits from ql chunk (h, j & 1) (low or high nibbles by j / 2) and 2 more from qh, less 32, with a
// signed scale for each 16-value half.
const SUPER: u32 = 8u;
const MINS: bool = false;
const HALF_SCALES: bool = true;  // an integer scale per 16 values
const ACT_K: bool = true;

fn stage_sub(rb: u32, g: u32) -> Staged {
  let b = rb + (g / 8u) * 210u;
  let k = g % 8u;
  let h = k / 4u;
  let j = k % 4u;
  var st: Staged;
  for (var u = 0u; u < 8u; u++) {
    let ql = w_u32(b + 64u * h + 32u * (j & 1u) + 4u * u);
    let qh = w_u32(b + 128u + 32u * h + 4u * u);
    st.q[u] = offset_bytes(((ql >> (4u * (j >> 1u))) & 0x0f0f0f0fu) | (((qh >> (2u * j)) & 0x03030303u) << 4u), 32u);
  }
  let s = b + 192u + 8u * h + 2u * j;
  st.sc = vec4<i32>(w_i8(s), w_i8(s + 1u), 0, 0);
  st.f = vec2<f32>(half_to_f32(w_u16(b + 208u)), 0.0);
  return st;
}
