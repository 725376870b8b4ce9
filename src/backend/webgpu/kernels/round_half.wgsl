// Activations rounded to f16 (or bf16) values, kept as f32: the CPU backend converts the input of an F16
// (BF16) matmul once, so the matvec then multiplies by exactly these values.
#include "float_formats.wgsl"

struct Params {
  cols: u32,
  n_tok: u32,
  x_stride: u32,  // floats per token in X; Y is dense (cols per token)
  bf16: u32,
}

@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;
@group(0) @binding(2) var<uniform> P: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let t = gid.y;
  if (i >= P.cols || t >= P.n_tok) {
    return;
  }
  let x = X[t * P.x_stride + i];
  Y[t * P.cols + i] = select(f16_round(x), bf16_round(x), P.bf16 != 0u);
}
