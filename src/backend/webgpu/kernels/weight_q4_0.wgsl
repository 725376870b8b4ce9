// Q4_0 weights: blocks of 32 in 18 bytes (f16 scale, 16 bytes of nibbles: low = elements 0..15, high =
// 16..31), w = d * (q - 8). Dotted with Q8_0 activations in integers, as the CPU backend does.
const BLOCK_BYTES: u32 = 18u;

fn chunk_dot(rbase: u32, c: u32, xbase: u32) -> f32 {
  let b = rbase + c * 18u;
  var dot = 0i;
  var xsum = 0i;
  for (var k = 0u; k < 4u; k++) {
    let q = w_u32(b + 2u + 4u * k);
    let xlo = x_word(xbase, c, k);
    let xhi = x_word(xbase, c, k + 4u);
    dot += dot4I8Packed(q & 0x0f0f0f0fu, xlo) + dot4I8Packed((q >> 4u) & 0x0f0f0f0fu, xhi);
    xsum += byte_sum(xlo) + byte_sum(xhi);
  }
  return f32(dot - 8 * xsum) * (half_to_f32(w_u16(b)) * x_scale(xbase, c));
}

fn weight_value(rbase: u32, j: u32) -> f32 {
  let b = rbase + (j >> 5u) * 18u;
  let i = j & 31u;
  let q = (w_u8(b + 2u + (i & 15u)) >> ((i >> 4u) * 4u)) & 15u;
  return f32(i32(q) - 8) * half_to_f32(w_u16(b));
}

// Exact integer dot of values 4k..4k+3 (low nibbles for k < 4, high for k >= 4) with one activation word.
fn word_idot(b: u32, k: u32, xw: u32) -> i32 {
  let q = (w_u32(b + 2u + 4u * (k & 3u)) >> (4u * (k >> 2u))) & 0x0f0f0f0fu;
  return dot4I8Packed(q, xw) - 8 * byte_sum(xw);
}
