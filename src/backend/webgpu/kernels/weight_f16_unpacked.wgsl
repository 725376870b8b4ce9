// F16 weights for matvec_float.wgsl where Ops found unpack2x16float exact for every half: the same products
// as weight_f16.wgsl's word_dot, without decoding the bits in integer code (SwiftShader runs this ~2x faster).
const VALUES_PER_WORD: u32 = 2u;
fn word_dot(w: u32, xbase: u32, j: u32) -> f32 {
  let h = unpack2x16float(w);
  return h.x * x_value(xbase, 2u * j) + h.y * x_value(xbase, 2u * j + 1u);
}

// Values j .. j + 3 of the row (j a multiple of 4), for matmul_float.wgsl.
fn weight_quad(rbase: u32, j: u32) -> vec4<f32> {
  let i = (rbase >> 2u) + (j >> 1u);
  return vec4<f32>(unpack2x16float(W[i]), unpack2x16float(W[i + 1u]));
}
