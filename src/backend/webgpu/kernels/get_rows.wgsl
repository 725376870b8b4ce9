// Embedding lookup: row TOKENS[4t] of W, dequantized to f32 and scaled, for each batch token t. Rows
// outside [row_base, row_base + rows) belong to another binding of a split matrix and are skipped.
#include "float_formats.wgsl"

struct Params {
  rows: u32,
  cols: u32,
  n_tok: u32,
  row_bytes: u32,
  row_base: u32,
  y_stride: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> BATCH: array<u32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<uniform> P: Params;
// Only the weight file's chunk_dot (unused here) reads X; it is declared so that file compiles.
@group(0) @binding(4) var<storage, read> X: array<u32>;

#include "weight_bytes.wgsl"
#include "{{ACT}}.wgsl"
#include "{{WEIGHT}}.wgsl"

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.x;
  if (t >= P.n_tok) {
    return;
  }
  let token = BATCH[4u * t];
  if (token < P.row_base || token >= P.row_base + P.rows) {
    return;
  }
  let rbase = (token - P.row_base) * P.row_bytes;
  for (var j = lid; j < P.cols; j += 64u) {
    var v = weight_value(rbase, j);
    if (P.scale != 1.0) {
      v *= P.scale;
    }
    Y[t * P.y_stride + j] = v;
  }
}
