// Activations to Q8_K (per 256 values: iscale = -127 / (the first value of largest magnitude),
// q = min(127, round-half-even(iscale * x)), d = 1 / iscale as f32), as the CPU backend does.
// One workgroup per super-block (workgroups.y = tokens), one thread per output word of 4 values. The block
// arithmetic is quantize_in_group.wgsl's, which the norms and the gated activation use when they quantize
// their output.
#include "float_formats.wgsl"
#include "exact_float.wgsl"

struct Params {
  cols: u32,
  n_tok: u32,
  x_stride: u32,
  out_stride: u32,
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
  let t = wid.y;
  let blk = wid.x;
  let xb = t * P.x_stride + blk * 256u + 4u * lid;
  q8_k_blocks(vec4<f32>(X[xb], X[xb + 1u], X[xb + 2u], X[xb + 3u]), lid, true, t * P.out_stride + blk * 65u);
}
