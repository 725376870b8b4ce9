// y[t][row] = dot(W row, x[t]) for F32 / F16 / BF16 weights. The quantized kernel (matvec.wgsl) gives each
// lane whole 32-value blocks, so neighbouring lanes read 64-128 bytes apart; plain floats need no blocks,
// so here neighbouring lanes read neighbouring words of the row (coalesced), four words in flight per lane.
// Specialized by {{WEIGHT}} (weight_f32/f16/bf16.wgsl: word_dot, VALUES_PER_WORD), {{ACT}}, WG, TT, LANES.
#include "float_formats.wgsl"

#include "matvec_bindings.wgsl"

// > 0 soft-cap (gemma 2 logits)
fn capped(y: f32) -> f32 {
  return tanh(y / P.softcap) * P.softcap;
}

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
  // One thread per row (software adapters): no partial sums to meet, so no barrier (SwiftShader pays for each).
  if (LANES == 1u) {
    for (var t = 0u; t < TT; t++) {
      if (valid && t0 + t < P.n_tok) {
        store_output(t0 + t, P.row_base + row, acc[t]);
      }
    }
    return;
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
      let out_row = P.row_base + row;
      store_output(t0 + t, out_row, partial[lid]);
    }
    workgroupBarrier();
  }
}
