// F32 weights.
const BLOCK_BYTES: u32 = 128u;  // per 32-value chunk

fn chunk_dot(rbase: u32, c: u32, xbase: u32) -> f32 {
  let wi = (rbase + c * 128u) >> 2u;
  let xi = c * 32u;
  var acc = 0.0;
  for (var k = 0u; k < 32u; k++) {
    acc += bitcast<f32>(W[wi + k]) * x_value(xbase, xi + k);
  }
  return acc;
}

fn weight_value(rbase: u32, j: u32) -> f32 {
  return bitcast<f32>(W[(rbase >> 2u) + j]);
}

// One word of the row (word j holds value j), for matvec_float.wgsl.
const VALUES_PER_WORD: u32 = 1u;
fn word_dot(w: u32, xbase: u32, j: u32) -> f32 {
  return bitcast<f32>(w) * x_value(xbase, j);
}

// Values j .. j + 3 of the row (j a multiple of 4), for matmul_float.wgsl.
fn weight_quad(rbase: u32, j: u32) -> vec4<f32> {
  let i = (rbase >> 2u) + j;
  return vec4<f32>(bitcast<f32>(W[i]), bitcast<f32>(W[i + 1u]), bitcast<f32>(W[i + 2u]), bitcast<f32>(W[i + 3u]));
}
