// y[t][row] = dot(W row, x[t]) for Q4_K / Q5_K / Q6_K weights, one token (decode), bit-equal to the CPU
// backend (the float steps of matvec_k.wgsl in their order). A thread per (row, super-block slot, int32
// lane) computes the exact integer lanes of super-blocks slot, slot + SLOTS, ... — independent loads, all in
// flight at once, which weights read from memory rather than cache need — into workgroup memory with each
// block's scale products; after one barrier, thread (row, slot 0, lane) folds the row's in-order chain
// acc_l = fma(float(lane), d_x * d, acc_l) from there, and the lanes meet as hsum256. Two barriers in all
// (matvec_k_decode.wgsl meets three times per 8 super-blocks; matvec_k_rows.wgsl has a thread walk the
// whole row, few threads in flight). The activations' 16-value group sums are taken once per workgroup.
// Specialized by {{WEIGHT}} (kq_lane_g, kq_group_base, kq_d, kq_dmin, KQ_MINS), ROWS (rows per workgroup),
// NB (super-blocks per row), SLOTS (threads per row lane) and FMA (chain_fma.wgsl).
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

const ROWS: u32 = {{ROWS}}u;
const NB: u32 = {{NB}}u;
const SLOTS: u32 = {{SLOTS}}u;
const LANES: u32 = 8u;
const PER_ROW: u32 = SLOTS * LANES;
const WG: u32 = ROWS * PER_ROW;

var<workgroup> x_groups: array<i32, NB * 16u>;
var<workgroup> block_lanes: array<f32, ROWS * NB * LANES>;
var<workgroup> block_mins: array<f32, ROWS * NB * 4u>;
var<workgroup> block_scale: array<f32, ROWS * NB>;
var<workgroup> block_mscale: array<f32, ROWS * NB>;
// Each row's eight lane chains, read by hsum_k_lanes.
var<workgroup> lane_val: array<f32, ROWS * LANES>;
var<workgroup> min_val: array<f32, ROWS * LANES>;

#include "k_lane_sums.wgsl"

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
  let r = lid / PER_ROW;
  let slot = (lid / LANES) % SLOTS;
  let lane = lid % LANES;
  let row = first_row + r;
  // A row past the end reads the last row (its result is dropped): every thread meets every barrier.
  let rbase = min(row, P.rows - 1u) * P.row_bytes;
  let gb = kq_group_base(lane);
  for (var c = slot; c < NB; c += SLOTS) {
    let b = rbase + c * BLOCK_BYTES;
    let gi = c * 16u + gb;
    let v = kq_lane_g(b, lane, xbase, 8u * c,
                      vec4<i32>(x_groups[gi], x_groups[gi + 1u], x_groups[gi + 2u], x_groups[gi + 3u]));
    let at = r * NB + c;
    block_lanes[at * LANES + lane] = f32(v.x);
    if (lane < 4u) {
      block_mins[at * 4u + lane] = f32(v.y);
    }
    if (lane == 0u) {
      let xd = x_scale(xbase, 8u * c);
      block_scale[at] = xd * kq_d(b);
      block_mscale[at] = -xd * kq_dmin(b);
    }
  }
  workgroupBarrier();
  if (slot == 0u) {
    var acc = 0.0;
    var acc_m = 0.0;
    for (var c = 0u; c < NB; c++) {
      let at = r * NB + c;
      acc = chain_fma(block_lanes[at * LANES + lane], block_scale[at], acc);
      if (KQ_MINS && lane < 4u) {
        acc_m = chain_fma(block_mins[at * 4u + lane], block_mscale[at], acc_m);
      }
    }
    lane_val[r * LANES + lane] = acc;
    min_val[r * LANES + lane] = acc_m;
  }
  workgroupBarrier();
  if (slot == 0u && lane == 0u && row < P.rows) {
    store_output(tok, P.row_base + row, hsum_k_lanes(r * LANES));
  }
}
