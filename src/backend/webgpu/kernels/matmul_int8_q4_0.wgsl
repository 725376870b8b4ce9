// Q4_0 for matmul_int8.wgsl: 18-byte blocks (on an even byte) of one f16 scale and 32 nibbles (values 0..15
// in the low nibbles, 16..31 in the high ones), less 8.
const SUPER: u32 = 1u;
const MINS: bool = false;
const HALF_SCALES: bool = false;  // one integer scale per 32 values
const ACT_K: bool = false;

fn stage_sub(rb: u32, g: u32) -> Staged {
  let b = rb + g * 18u;
  var st: Staged;
  for (var u = 0u; u < 8u; u++) {
    st.q[u] = offset_bytes((w_u32(b + 2u + 4u * (u % 4u)) >> (4u * (u / 4u))) & 0x0f0f0f0fu, 8u);
  }
  st.sc = vec4<i32>(1, 1, 0, 0);
  st.f = vec2<f32>(half_to_f32(w_u16(b)), 0.0);
  return st;
}
