// y[t][row] = dot(W row, x[t]) for F32 / F16 / BF16 weights. The quantized kernel (matvec.wgsl) gives each
// lane whole 32-value blocks, so neighbouring lanes read 64-128 bytes apart; plain floats need no blocks,
// so here neighbouring lanes read neighbouring words of the row (coalesced), four words in flight per lane.
// Specialized by {{WEIGHT}} (weight_f32/f16/bf16.wgsl: word_dot, VALUES_PER_WORD), {{ACT}}, WG, TT, LANES.
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
  grid_x: u32,     // workgroups along x (more continue in y)
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
const LANES: u32 = {{LANES}}u;
const ROWS_PER_WG: u32 = WG / LANES;
var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first_row = (wid.x + wid.y * P.grid_x) * ROWS_PER_WG;
  if (first_row >= P.rows) {
    return;
  }
  let lane = lid % LANES;
  let row = first_row + lid / LANES;
  let valid = row < P.rows;
  let t0 = wid.z * TT;
  let wbase = row * (P.row_bytes >> 2u);
  let words = P.cols / VALUES_PER_WORD;
  var acc: array<f32, TT>;
  if (valid) {
    var j = lane;
    // Four loads issued before their products are needed: small rows cannot hide latency otherwise.
    for (; j + 3u * LANES < words; j += 4u * LANES) {
      let w0 = W[wbase + j];
      let w1 = W[wbase + j + LANES];
      let w2 = W[wbase + j + 2u * LANES];
      let w3 = W[wbase + j + 3u * LANES];
      for (var t = 0u; t < TT; t++) {
        if (t0 + t < P.n_tok) {
          let xb = (t0 + t) * P.x_stride;
          acc[t] += word_dot(w0, xb, j) + word_dot(w1, xb, j + LANES) + word_dot(w2, xb, j + 2u * LANES) +
                    word_dot(w3, xb, j + 3u * LANES);
        }
      }
    }
    for (; j < words; j += LANES) {
      let w0 = W[wbase + j];
      for (var t = 0u; t < TT; t++) {
        if (t0 + t < P.n_tok) {
          acc[t] += word_dot(w0, (t0 + t) * P.x_stride, j);
        }
      }
    }
  }
  for (var t = 0u; t < TT; t++) {
    partial[lid] = acc[t];
    workgroupBarrier();
    for (var s = LANES / 2u; s > 0u; s >>= 1u) {
      if (lane < s) {
        partial[lid] += partial[lid + s];
      }
      workgroupBarrier();
    }
    if (lane == 0u && valid && t0 + t < P.n_tok) {
      var y = partial[lid];
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
