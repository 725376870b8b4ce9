// y[t][row] = dot(W row, x[t]) for Q4_K / Q5_K / Q6_K weights and Q8_K activations, summed in the CPU
// backend's (llama.cpp's AVX2) float order, so the results are bit-equal to it: per 256-value super-block,
// eight exact int32 lanes (kq_lane, as the CPU's maddubs/madd lanes hold them) are accumulated as
// fma(float(lane), d_x * d, acc) in eight float lanes; Q4_K/Q5_K also accumulate their mins in four lanes
// as fma(float(Σ min * bsum pair), -d_x * dmin, acc_m). The lanes then sum as hsum256 (+ the 4-lane hsum).
// Specialized by {{WEIGHT}} (weight_q4_k / q5_k / q6_k: kq_lane, kq_d, kq_dmin, KQ_MINS) and TT.
#include "float_formats.wgsl"
#include "exact_float.wgsl"

#include "matvec_bindings.wgsl"

// > 0 soft-cap (gemma 2 logits)
fn capped(y: f32) -> f32 {
  return tanh_accurate(y / P.softcap) * P.softcap;
}

#include "weight_bytes.wgsl"
#include "act_q8_k.wgsl"
#include "{{WEIGHT}}.wgsl"

const WG: u32 = {{WG}}u;
const TT: u32 = {{TT}}u;
const LANES: u32 = 8u;
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
  let n_blocks = P.cols / 256u;
  var acc: array<f32, TT>;
  var acc_m: array<f32, TT>;
  if (valid) {
    for (var c = 0u; c < n_blocks; c++) {
      let b = rbase + c * BLOCK_BYTES;
      let d = kq_d(b);
      let dmin = kq_dmin(b);
      for (var t = 0u; t < nt; t++) {
        let xbase = (t0 + t) * P.x_stride;
        let xd = x_scale(xbase, 8u * c);
        let v = kq_lane(b, lane, xbase, 8u * c);
        acc[t] = chain_fma(f32(v.x), xd * d, acc[t]);
        if (KQ_MINS && lane < 4u) {
          acc_m[t] = chain_fma(f32(v.y), -xd * dmin, acc_m[t]);
        }
      }
    }
  }
  // hsum256 of the 8 lanes: (a0+a4 + a2+a6) + (a1+a5 + a3+a7); the mins' 4 lanes: (m0+m2) + (m1+m3).
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
  if (KQ_MINS) {
    workgroupBarrier();
    for (var t = 0u; t < nt; t++) {
      partial[t * WG + lid] = acc_m[t];
    }
    workgroupBarrier();
    if (lane < 2u) {
      for (var t = 0u; t < nt; t++) {
        partial[t * WG + lid] = partial[t * WG + lid] + partial[t * WG + lid + 2u];
      }
    }
    workgroupBarrier();
    if (lane == 0u) {
      for (var t = 0u; t < nt; t++) {
        acc[t] = acc[t] + (partial[t * WG + lid] + partial[t * WG + lid + 1u]);
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
