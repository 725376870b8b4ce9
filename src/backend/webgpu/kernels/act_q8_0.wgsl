// Activations quantized to Q8_0 (quantize_q8_0.wgsl): per 32 values, 9 words: the scale as f32 (already
// rounded to f16, as the block format stores it), then 8 words of 4 signed bytes.
const X_CHUNK_WORDS: u32 = 9u;

fn x_scale(xbase: u32, c: u32) -> f32 {
  return bitcast<f32>(X[xbase + c * 9u]);
}

fn x_word(xbase: u32, c: u32, k: u32) -> u32 {
  return X[xbase + c * 9u + 1u + k];
}
