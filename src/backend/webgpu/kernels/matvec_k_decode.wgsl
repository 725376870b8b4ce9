// y[t][row] = dot(W row, x[t]) for Q4_K / Q5_K / Q6_K weights, one token per workgroup row (decode), with
// the same float order as matvec_k.wgsl (so bit-equal to the CPU backend) but spread over many more
// threads: the int32 lanes are exact, so a thread per (row, super-block, lane) computes them for CB
// super-blocks at a time (neighbouring threads read neighbouring words of the row), and only the short
// float chain acc_l = fma(float(lane), d_x * d, acc_l) over those super-blocks runs in order, in eight
// threads per row; then the lanes sum as hsum256. The activations' 16-value group sums (for the mins and
// Q6_K's -32 offset) are taken once per workgroup instead of once per row and lane.
// Specialized by {{WEIGHT}} (kq_lane_g, kq_group_base, kq_d, kq_dmin, KQ_MINS), ROWS (rows per workgroup)
// and FMA: fma where the adapter's fma() rounds once (probed by Ops), else fma_exact.
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

const ROWS: u32 = {{ROWS}}u;
const LANES: u32 = 8u;
const CB: u32 = 8u;  // super-blocks per step
const PER_ROW: u32 = CB * LANES;
const WG: u32 = ROWS * PER_ROW;

var<workgroup> lane_val: array<f32, WG>;
var<workgroup> min_val: array<f32, WG>;
var<workgroup> blk_scale: array<f32, ROWS * CB>;
var<workgroup> blk_mscale: array<f32, ROWS * CB>;
var<workgroup> x_groups: array<i32, CB * 16u>;

#include "chain_fma.wgsl"
#include "k_lane_sums.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first_row = (wid.x + wid.y * P.grid_x) * ROWS;
  if (first_row >= P.rows) {
    return;
  }
  let r = lid / PER_ROW;
  let k = (lid / LANES) % CB;
  let lane = lid % LANES;
  let row = first_row + r;
  let valid = row < P.rows;
  let rbase = row * P.row_bytes;
  let n_blocks = P.cols / 256u;
  let tok = wid.z;
  let xbase = tok * P.x_stride;
  var acc = 0.0;
  var acc_m = 0.0;
  for (var c0 = 0u; c0 < n_blocks; c0 += CB) {
    let nb = min(CB, n_blocks - c0);
    for (var i = lid; i < CB * 16u; i += WG) {
      let kk = i / 16u;
      var s = 0i;
      if (kk < nb) {
        s = x_group_sum(xbase, (c0 + kk) * 16u + i % 16u);
      }
      x_groups[i] = s;
    }
    workgroupBarrier();
    if (valid && k < nb) {
      let c = c0 + k;
      let b = rbase + c * BLOCK_BYTES;
      let gi = k * 16u + kq_group_base(lane);
      let v = kq_lane_g(b, lane, xbase, 8u * c,
                        vec4<i32>(x_groups[gi], x_groups[gi + 1u], x_groups[gi + 2u], x_groups[gi + 3u]));
      lane_val[lid] = f32(v.x);
      min_val[lid] = f32(v.y);
      if (lane == 0u) {
        let xd = x_scale(xbase, 8u * c);
        blk_scale[r * CB + k] = xd * kq_d(b);
        blk_mscale[r * CB + k] = -xd * kq_dmin(b);
      }
    }
    workgroupBarrier();
    // The in-order chain: thread (row, lane) of super-block slot 0 folds the step's super-blocks.
    if (valid && k == 0u) {
      for (var j = 0u; j < nb; j++) {
        let at = r * PER_ROW + j * LANES + lane;
        acc = chain_fma(lane_val[at], blk_scale[r * CB + j], acc);
        if (KQ_MINS && lane < 4u) {
          acc_m = chain_fma(min_val[at], blk_mscale[r * CB + j], acc_m);
        }
      }
    }
    workgroupBarrier();
  }
  // The lanes meet in the CPU's hsum256 order (k_lane_sums.wgsl).
  if (k == 0u) {
    lane_val[lid] = acc;
    min_val[lid] = acc_m;
  }
  workgroupBarrier();
  if (valid && lid % PER_ROW == 0u) {
    store_output(tok, P.row_base + row, hsum_k_lanes(lid));
  }
}
