// y[t][row] = dot(W row, x[t]) for a tile of tokens: LANES threads per weight row striding over its
// 32-value chunks, dequantizing in registers (weights are never expanded in memory).
// Specialized by {{WEIGHT}} (weight_*.wgsl), {{ACT}} (act_*.wgsl), WG threads and TT tokens per tile.
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
// LANES threads share a row (a power of two up to WG, matched to the row's chunk count so short rows do
// not leave most threads idle); a workgroup covers WG / LANES rows.
const LANES: u32 = {{LANES}}u;
const ROWS_PER_WG: u32 = WG / LANES;
var<workgroup> partial: array<f32, WG * TT>;

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
  let rbase = row * P.row_bytes;
  let n_chunks = P.cols / 32u;
  var acc: array<f32, TT>;
  if (valid) {
    for (var c = lane; c < n_chunks; c += LANES) {
      for (var t = 0u; t < TT; t++) {
        if (t0 + t < P.n_tok) {
          acc[t] += chunk_dot(rbase, c, (t0 + t) * P.x_stride);
        }
      }
    }
  }
  // Every token's partial sums reduce together, so a workgroup waits on log2(LANES) + 1 barriers however
  // many tokens its tile holds (barriers are what a CPU implementation such as SwiftShader pays for).
  let nt = min(TT, P.n_tok - t0);
  for (var t = 0u; t < nt; t++) {
    partial[t * WG + lid] = acc[t];
  }
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s >>= 1u) {
    if (lane < s) {
      for (var t = 0u; t < nt; t++) {
        partial[t * WG + lid] += partial[t * WG + lid + s];
      }
    }
    workgroupBarrier();
  }
  if (lane == 0u && valid) {
    let out_row = P.row_base + row;
    for (var t = 0u; t < nt; t++) {
      store_output(t0 + t, out_row, partial[t * WG + lid]);
    }
  }
}
