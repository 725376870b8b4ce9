// Activations quantized to Q8_K (quantize_q8_k.wgsl): per 256 values, 65 words: the scale as f32, then
// 64 words of 4 signed bytes. Chunk c (32 values) is sub-block c % 8 of super-block c / 8.

fn x_scale(xbase: u32, c: u32) -> f32 {
  return bitcast<f32>(X[xbase + (c >> 3u) * 65u]);
}

fn x_word(xbase: u32, c: u32, k: u32) -> u32 {
  return X[xbase + (c >> 3u) * 65u + 1u + (c & 7u) * 8u + k];
}
