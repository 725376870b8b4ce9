// F16 weights; the activation comes already rounded to f16 values (round_half.wgsl) and the products are
// summed in f32, as the CPU backend's F16 dot product does.
const BLOCK_BYTES: u32 = 64u;  // per 32-value chunk

fn chunk_dot(rbase: u32, c: u32, xbase: u32) -> f32 {
  let wi = (rbase + c * 64u) >> 2u;
  let xi = c * 32u;
  var acc = 0.0;
  for (var k = 0u; k < 16u; k++) {
    let w = W[wi + k];
    acc += half_to_f32(w & 0xffffu) * x_value(xbase, xi + 2u * k);
    acc += half_to_f32(w >> 16u) * x_value(xbase, xi + 2u * k + 1u);
  }
  return acc;
}

fn weight_value(rbase: u32, j: u32) -> f32 {
  return half_to_f32(w_u16(rbase + 2u * j));
}

// One word of the row (word j holds values 2j, 2j+1), for matvec_float.wgsl.
const VALUES_PER_WORD: u32 = 2u;
fn word_dot(w: u32, xbase: u32, j: u32) -> f32 {
  return half_to_f32(w & 0xffffu) * x_value(xbase, 2u * j) + half_to_f32(w >> 16u) * x_value(xbase, 2u * j + 1u);
}

// Values j .. j + 3 of the row (j a multiple of 4), for matmul_float.wgsl.
fn weight_quad(rbase: u32, j: u32) -> vec4<f32> {
  let i = (rbase >> 2u) + (j >> 1u);
  let a = W[i];
  let b = W[i + 1u];
  return vec4<f32>(half_to_f32(a & 0xffffu), half_to_f32(a >> 16u), half_to_f32(b & 0xffffu), half_to_f32(b >> 16u));
}
