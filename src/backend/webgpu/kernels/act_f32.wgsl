// Activations as plain f32 (F16, BF16 and F32 weights round them per element instead).

fn x_value(xbase: u32, i: u32) -> f32 {
  return bitcast<f32>(X[xbase + i]);
}
