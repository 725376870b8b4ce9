// The multiply-add of the quantized matvecs' in-order float chains. The CPU's FMA rounds once: the template
// variable FMA is fma where the adapter's fma() does too (probed by Ops), else fma_exact (exact_float.wgsl;
// SwiftShader's fma() rounds twice).
fn chain_fma(a: f32, b: f32, c: f32) -> f32 {
  return {{FMA}}(a, b, c);
}
