// y[t][row] = dot(W row, x[t]) for Q8_0 / Q4_0 weights and Q8_0 activations, summed in the CPU backend's
// (llama.cpp's x86) float order, so the results are bit-equal to it and greedy tokens cannot drift apart:
//  LANES = 8: eight float lanes per row; lane k takes the exact integer dot of the 4 values 4k..4k+3 of
//             every block and accumulates fma(float(idot), d_w * d_x, acc) block after block; the lanes
//             then sum as hsum256 does: (a0+a4 + a2+a6) + (a1+a5 + a3+a7).
//  LANES = 1: one chain per row over whole-block integer dots (llama.cpp's repacked Q4_0, rows % 8 == 0).
// Eight neighbouring threads read the 32 quant bytes of one block, so a row's reads stay coalesced.
// Specialized by {{WEIGHT}} (weight_q8_0 / weight_q4_0: word_idot), LANES and TT tokens per tile.
#include "float_formats.wgsl"
#include "exact_float.wgsl"

#include "matvec_bindings.wgsl"

// > 0 soft-cap (gemma 2 logits)
fn capped(y: f32) -> f32 {
  return tanh_accurate(y / P.softcap) * P.softcap;
}

#include "weight_bytes.wgsl"
#include "act_q8_0.wgsl"
#include "{{WEIGHT}}.wgsl"

const WG: u32 = {{WG}}u;
const TT: u32 = {{TT}}u;
const LANES: u32 = {{LANES}}u;
const ROWS_PER_WG: u32 = WG / LANES;
var<workgroup> partial: array<f32, WG * TT>;

#include "chain_fma.wgsl"

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
  let nt = min(TT, P.n_tok - t0);
  let rbase = row * P.row_bytes;
  let n_blocks = P.cols / 32u;
  var acc: array<f32, TT>;
  if (valid) {
    for (var c = 0u; c < n_blocks; c++) {
      let b = rbase + c * BLOCK_BYTES;
      let wd = half_to_f32(w_u16(b));
      for (var t = 0u; t < nt; t++) {
        let xbase = (t0 + t) * P.x_stride;
        var idot = 0i;
        if (LANES == 8u) {
          idot = word_idot(b, lane, x_word(xbase, c, lane));
        } else {
          for (var k = 0u; k < 8u; k++) {
            idot += word_idot(b, k, x_word(xbase, c, k));
          }
        }
        acc[t] = chain_fma(f32(idot), wd * x_scale(xbase, c), acc[t]);
      }
    }
  }
  if (LANES == 8u) {
    for (var t = 0u; t < nt; t++) {
      partial[t * WG + lid] = acc[t];
    }
    workgroupBarrier();
    for (var s = 4u; s > 1u; s >>= 1u) {
      if (lane < s) {
        for (var t = 0u; t < nt; t++) {
          partial[t * WG + lid] = partial[t * WG + lid] + partial[t * WG + lid + s];
        }
      }
      workgroupBarrier();
    }
    if (lane == 0u) {
      for (var t = 0u; t < nt; t++) {
        acc[t] = partial[t * WG + lid] + partial[t * WG + lid + 1u];
      }
    }
  }
  if (lane == 0u && valid) {
    let out_row = P.row_base + row;
    for (var t = 0u; t < nt; t++) {
      store_output(t0 + t, out_row, acc[t]);
    }
  }
}
