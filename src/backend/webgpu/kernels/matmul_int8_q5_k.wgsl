// Q5_K for matmul_int8.wgsl: as Q4_K, 176-byte super-blocks (on a word) whose sub-block k takes its fifth
// bit from bit k of the high-bit bytes.
#include "k_scales.wgsl"
const SUPER: u32 = 8u;
const MINS: bool = true;
const HALF_SCALES: bool = false;  // one integer scale per 32 values
const ACT_K: bool = true;

fn stage_sub(rb: u32, g: u32) -> Staged {
  let b = rb + (g / 8u) * 176u;
  let k = g % 8u;
  let p = k / 2u;
  let sh = 4u * (k % 2u);
  var st: Staged;
  for (var u = 0u; u < 8u; u++) {
    let qh = W[(b + 16u + 4u * u) >> 2u];
    st.q[u] = ((W[(b + 48u + 32u * p + 4u * u) >> 2u] >> sh) & 0x0f0f0f0fu) | (((qh >> k) & 0x01010101u) << 4u);
  }
  let ks = k_scale_words(b);
  let sc = i32((k_pair(ks.sc, p) >> (2u * sh)) & 0xffu);
  st.sc = vec4<i32>(sc, sc, i32((k_pair(ks.mn, p) >> (2u * sh)) & 0xffu), 0);
  st.f = vec2<f32>(half_to_f32(w_u16(b)), half_to_f32(w_u16(b + 2u)));
  return st;
}
