// Activations quantized to Q8_K (quantize_q8_k.wgsl): per 256 values, 65 words: the scale as f32, then
// 64 words of 4 signed bytes. Chunk c (32 values) is sub-block c % 8 of super-block c / 8.

fn x_scale(xbase: u32, c: u32) -> f32 {
  return bitcast<f32>(X[xbase + (c >> 3u) * 65u]);
}

fn x_word(xbase: u32, c: u32, k: u32) -> u32 {
  return X[xbase + (c >> 3u) * 65u + 1u + (c & 7u) * 8u + k];
}

// The sum of the activation quants of 16-value group g (g = 16 * super-block + group within it).
fn x_group_sum(xbase: u32, g: u32) -> i32 {
  let w0 = xbase + (g >> 4u) * 65u + 1u + 4u * (g & 15u);
  return byte_sum(X[w0]) + byte_sum(X[w0 + 1u]) + byte_sum(X[w0 + 2u]) + byte_sum(X[w0 + 3u]);
}
