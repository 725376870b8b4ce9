// Q4_K for matmul_int8.wgsl: 144-byte super-blocks (on a word); sub-blocks 2p, 2p + 1 are the low and high
// nibbles of quant chunk p, with 6-bit scales and mins.
#include "k_scales.wgsl"
const SUPER: u32 = 8u;
const MINS: bool = true;
const HALF_SCALES: bool = false;  // one integer scale per 32 values
const ACT_K: bool = true;

fn stage_sub(rb: u32, g: u32) -> Staged {
  let b = rb + (g / 8u) * 144u;
  let k = g % 8u;
  let p = k / 2u;
  let sh = 4u * (k % 2u);
  var st: Staged;
  for (var u = 0u; u < 8u; u++) {
    st.q[u] = (W[(b + 16u + 32u * p + 4u * u) >> 2u] >> sh) & 0x0f0f0f0fu;
  }
  let ks = k_scale_words(b);
  let sc = i32((k_pair(ks.sc, p) >> (2u * sh)) & 0xffu);
  st.sc = vec4<i32>(sc, sc, i32((k_pair(ks.mn, p) >> (2u * sh)) & 0xffu), 0);
  st.f = vec2<f32>(half_to_f32(w_u16(b)), half_to_f32(w_u16(b + 2u)));
  return st;
}
