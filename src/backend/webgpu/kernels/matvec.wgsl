// y[t][row] = dot(W row, x[t]) for a tile of tokens: one workgroup per weight row and token tile, threads
// striding over 32-value chunks, dequantizing in registers (weights are never expanded in memory).
// Specialized by {{WEIGHT}} (weight_*.wgsl), {{ACT}} (act_*.wgsl), WG threads and TT tokens per tile.
#include "float_formats.wgsl"

struct Params {
  rows: u32,       // rows in this binding of W
  cols: u32,
  n_tok: u32,
  row_bytes: u32,
  x_stride: u32,   // words per token in X
  y_stride: u32,   // floats per token in Y
  y_offset: u32,   // first output column of row 0 of the whole matrix
  row_base: u32,   // index of this binding's first row within the whole matrix
  grid_x: u32,     // workgroups along x (rows beyond 65535 continue in y)
  has_bias: u32,
  softcap: f32,    // > 0: y = tanh(y / softcap) * softcap
  accumulate: u32, // 1: y += result (residual add)
}

@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<uniform> P: Params;

#include "weight_bytes.wgsl"
#include "{{ACT}}.wgsl"
#include "{{WEIGHT}}.wgsl"

const WG: u32 = {{WG}}u;
const TT: u32 = {{TT}}u;
var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * P.grid_x;
  if (row >= P.rows) {
    return;
  }
  let t0 = wid.z * TT;
  let rbase = row * P.row_bytes;
  let n_chunks = P.cols / 32u;
  var acc: array<f32, TT>;
  for (var c = lid; c < n_chunks; c += WG) {
    for (var t = 0u; t < TT; t++) {
      if (t0 + t < P.n_tok) {
        acc[t] += chunk_dot(rbase, c, (t0 + t) * P.x_stride);
      }
    }
  }
  for (var t = 0u; t < TT; t++) {
    partial[lid] = acc[t];
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
      if (lid < s) {
        partial[lid] += partial[lid + s];
      }
      workgroupBarrier();
    }
    if (lid == 0u && t0 + t < P.n_tok) {
      var y = partial[0];
      let out_row = P.row_base + row;
      if (P.has_bias != 0u) {
        y += BIAS[out_row];
      }
      if (P.softcap > 0.0) {
        y = tanh(y / P.softcap) * P.softcap;
      }
      let i = (t0 + t) * P.y_stride + P.y_offset + out_row;
      if (P.accumulate != 0u) {
        y += Y[i];
      }
      Y[i] = y;
    }
    workgroupBarrier();
  }
}
