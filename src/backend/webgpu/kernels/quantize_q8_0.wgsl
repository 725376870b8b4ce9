// Activations to Q8_0 (per 32 values: d = amax / 127 stored rounded to f16, q = round-half-even(x * 127 / amax)),
// exactly as the CPU backend quantizes them before its integer dot products. One thread per block.
#include "float_formats.wgsl"

struct Params {
  cols: u32,
  n_tok: u32,
  x_stride: u32,   // floats per token in X
  out_stride: u32, // words per token in XQ
}

@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> XQ: array<u32>;
@group(0) @binding(2) var<uniform> P: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let blocks = P.cols / 32u;
  let i = gid.x;
  if (i >= blocks * P.n_tok) {
    return;
  }
  let t = i / blocks;
  let blk = i % blocks;
  let xb = t * P.x_stride + blk * 32u;
  var amax = 0.0;
  for (var j = 0u; j < 32u; j++) {
    amax = max(amax, abs(X[xb + j]));
  }
  let d = amax / 127.0;
  let id = select(0.0, 127.0 / amax, amax != 0.0);
  let ob = t * P.out_stride + blk * 9u;
  XQ[ob] = bitcast<u32>(f16_round(d));
  for (var k = 0u; k < 8u; k++) {
    var word = 0u;
    for (var b = 0u; b < 4u; b++) {
      let q = i32(round(X[xb + 4u * k + b] * id));
      word |= (u32(q) & 0xffu) << (8u * b);
    }
    XQ[ob + 1u + k] = word;
  }
}
