// Q8_0 weights: blocks of 32 in 34 bytes (f16 scale, 32 signed bytes), w = d * q.
const BLOCK_BYTES: u32 = 34u;

fn chunk_dot(rbase: u32, c: u32, xbase: u32) -> f32 {
  let b = rbase + c * 34u;
  var dot = 0i;
  for (var k = 0u; k < 8u; k++) {
    dot += dot4I8Packed(w_u32(b + 2u + 4u * k), x_word(xbase, c, k));
  }
  return f32(dot) * (half_to_f32(w_u16(b)) * x_scale(xbase, c));
}

fn weight_value(rbase: u32, j: u32) -> f32 {
  let b = rbase + (j >> 5u) * 34u;
  return f32(w_i8(b + 2u + (j & 31u))) * half_to_f32(w_u16(b));
}

// Exact integer dot of values 4k..4k+3 of the block at byte b with one packed activation word.
fn word_idot(b: u32, k: u32, xw: u32) -> i32 {
  return dot4I8Packed(w_u32(b + 2u + 4u * k), xw);
}
