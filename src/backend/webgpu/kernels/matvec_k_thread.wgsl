// y[t][row] = dot(W row, x[t]) for Q4_K / Q5_K / Q6_K weights, one token (decode), bit-equal to the CPU
// backend: matvec_k_rows.wgsl's arithmetic with one thread per row holding all eight int32-lane chains in
// registers, so there is no workgroup memory and no barrier. For software adapters (SwiftShader), where a
// barrier costs more than the reads it saves: each thread takes its super-block's 16-value group sums itself.
// Specialized by {{WEIGHT}} (kq_lane_g, kq_group_base, kq_d, kq_dmin, KQ_MINS), NB (super-blocks per row)
// and FMA (chain_fma.wgsl).
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

const NB: u32 = {{NB}}u;
const WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = (wid.x + wid.y * P.grid_x) * WG + lid;
  if (row >= P.rows) {
    return;
  }
  let tok = wid.z;
  let xbase = tok * P.x_stride;
  let rbase = row * P.row_bytes;
  var acc: array<f32, 8>;
  var acc_m: array<f32, 4>;
  for (var c = 0u; c < NB; c++) {
    let b = rbase + c * BLOCK_BYTES;
    var g: array<i32, 16>;
    for (var i = 0u; i < 16u; i++) {
      g[i] = x_group_sum(xbase, c * 16u + i);
    }
    let xd = x_scale(xbase, 8u * c);
    let scale = xd * kq_d(b);
    let mscale = -xd * kq_dmin(b);
    for (var lane = 0u; lane < 8u; lane++) {
      let gb = kq_group_base(lane);
      let v = kq_lane_g(b, lane, xbase, 8u * c, vec4<i32>(g[gb], g[gb + 1u], g[gb + 2u], g[gb + 3u]));
      acc[lane] = chain_fma(f32(v.x), scale, acc[lane]);
      if (KQ_MINS && lane < 4u) {
        acc_m[lane] = chain_fma(f32(v.y), mscale, acc_m[lane]);
      }
    }
  }
  // hsum256 in the CPU's order (k_lane_sums.wgsl's hsum_k_lanes, from registers).
  var y = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
  if (KQ_MINS) {
    y = y + ((acc_m[0] + acc_m[2]) + (acc_m[1] + acc_m[3]));
  }
  store_output(tok, P.row_base + row, y);
}
