// Activations to Q8_0 (per 32 values: d = amax / 127 stored rounded to f16, q = round-half-even(x * 127 / amax)),
// exactly as the CPU backend quantizes them before its integer dot products. Eight threads per block (one
// output word of 4 values each), eight blocks per workgroup, workgroups.y = tokens: a 2048-wide row is
// 8 workgroups of short work instead of 64 threads each walking a whole block. The block arithmetic is
// quantize_in_group.wgsl's, which the norms and the gated activation use when they quantize their output.
#include "float_formats.wgsl"
#include "exact_float.wgsl"

struct Params {
  cols: u32,
  n_tok: u32,
  x_stride: u32,   // floats per token in X
  out_stride: u32, // words per token in XQ
}

@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> XQ: array<u32>;
@group(0) @binding(2) var<uniform> P: Params;

#include "quantize_in_group.wgsl"

fn produced_value(i: u32) -> f32 {
  return X[i];
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let blocks = P.cols / 32u;
  let t = wid.y;
  let blk = wid.x * 8u + lid / 8u;
  let valid = blk < blocks;
  var v = vec4<f32>(0.0);
  if (valid) {
    let xb = t * P.x_stride + blk * 32u + 4u * (lid % 8u);
    v = vec4<f32>(X[xb], X[xb + 1u], X[xb + 2u], X[xb + 3u]);
  }
  q8_0_blocks(v, lid, valid, t * P.out_stride + blk * 9u);
}
