// BF16 weights (the top half of an f32); the activation comes already rounded to bf16 values
// (round_half.wgsl).
const BLOCK_BYTES: u32 = 64u;  // per 32-value chunk

fn chunk_dot(rbase: u32, c: u32, xbase: u32) -> f32 {
  let wi = (rbase + c * 64u) >> 2u;
  let xi = c * 32u;
  var acc = 0.0;
  for (var k = 0u; k < 16u; k++) {
    let w = W[wi + k];
    acc += bitcast<f32>(w << 16u) * x_value(xbase, xi + 2u * k);
    acc += bitcast<f32>(w & 0xffff0000u) * x_value(xbase, xi + 2u * k + 1u);
  }
  return acc;
}

fn weight_value(rbase: u32, j: u32) -> f32 {
  return bitcast<f32>(w_u16(rbase + 2u * j) << 16u);
}

// One word of the row (word j holds values 2j, 2j+1), for matvec_float.wgsl.
const VALUES_PER_WORD: u32 = 2u;
fn word_dot(w: u32, xbase: u32, j: u32) -> f32 {
  return bitcast<f32>(w << 16u) * x_value(xbase, 2u * j) + bitcast<f32>(w & 0xffff0000u) * x_value(xbase, 2u * j + 1u);
}

// Values j .. j + 3 of the row (j a multiple of 4), for matmul_float.wgsl.
fn weight_quad(rbase: u32, j: u32) -> vec4<f32> {
  let i = (rbase >> 2u) + (j >> 1u);
  let a = W[i];
  let b = W[i + 1u];
  return vec4<f32>(bitcast<f32>(a << 16u), bitcast<f32>(a & 0xffff0000u), bitcast<f32>(b << 16u),
                   bitcast<f32>(b & 0xffff0000u));
}
