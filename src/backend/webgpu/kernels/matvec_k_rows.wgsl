// y[t][row] = dot(W row, x[t]) for Q4_K / Q5_K / Q6_K weights, one token (decode), bit-equal to the CPU
// backend (the float steps of matvec_k.wgsl in their order) with one thread per (row, int32 lane) walking
// the whole row: each lane's in-order chain acc_l = fma(float(lane), d_x * d, acc_l) stays in a register,
// so the only barriers are one after the activations' 16-value group sums (taken once per workgroup for
// every super-block) and one before the final hsum256 of the eight lanes. matvec_k_decode.wgsl instead
// spreads a row's super-blocks over threads and meets in workgroup memory at every step.
// Specialized by {{WEIGHT}} (kq_lane_g, kq_group_base, kq_d, kq_dmin, KQ_MINS), ROWS (rows per workgroup),
// NB (super-blocks per row: the loop's trip count is a constant) and FMA (chain_fma.wgsl).
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
#include "chain_fma.wgsl"
#include "k_lane_sums.wgsl"

const ROWS: u32 = {{ROWS}}u;
const NB: u32 = {{NB}}u;
const LANES: u32 = 8u;
const WG: u32 = ROWS * LANES;

var<workgroup> x_groups: array<i32, NB * 16u>;
var<workgroup> lane_val: array<f32, WG>;
var<workgroup> min_val: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first_row = (wid.x + wid.y * P.grid_x) * ROWS;
  if (first_row >= P.rows) {
    return;
  }
  let tok = wid.z;
  let xbase = tok * P.x_stride;
  for (var i = lid; i < NB * 16u; i += WG) {
    x_groups[i] = x_group_sum(xbase, i);
  }
  workgroupBarrier();
  let lane = lid % LANES;
  let row = first_row + lid / LANES;
  // A row past the end reads the last row (its result is dropped): every thread stays in the loop.
  let rbase = min(row, P.rows - 1u) * P.row_bytes;
  let gb = kq_group_base(lane);
  var acc = 0.0;
  var acc_m = 0.0;
  for (var c = 0u; c < NB; c++) {
    let b = rbase + c * BLOCK_BYTES;
    let gi = c * 16u + gb;
    let v = kq_lane_g(b, lane, xbase, 8u * c,
                      vec4<i32>(x_groups[gi], x_groups[gi + 1u], x_groups[gi + 2u], x_groups[gi + 3u]));
    let xd = x_scale(xbase, 8u * c);
    acc = chain_fma(f32(v.x), xd * kq_d(b), acc);
    if (KQ_MINS && lane < 4u) {
      acc_m = chain_fma(f32(v.y), -xd * kq_dmin(b), acc_m);
    }
  }
  lane_val[lid] = acc;
  min_val[lid] = acc_m;
  workgroupBarrier();
  if (lane == 0u && row < P.rows) {
    store_output(tok, P.row_base + row, hsum_k_lanes(lid));
  }
}
