// y[t][row] = dot(W row, x[t]) for Q8_0 / Q4_0 weights and Q8_0 activations, one token (decode), in
// matvec_q0.wgsl's LANES = 8 order (lane k: the exact integer dot of values 4k..4k+3 of every block, then
// acc_k = fma(float(idot), d_w * d_x, acc_k) block after block; the lanes summed as hsum256), so bit-equal
// to the CPU backend. matvec_q0.wgsl has one thread per (row, lane) walk all of a row's blocks, a chain of
// dependent loads; here a thread per (row, block slot, lane) computes the integer dots of blocks slot,
// slot + SLOTS, ... (independent loads, all in flight) into workgroup memory, and after one barrier the
// (row, slot 0, lane) threads fold the float chains in order from there.
// Specialized by {{WEIGHT}} (weight_q8_0 / weight_q4_0: word_idot), ROWS (rows per workgroup), NB (blocks
// per row), SLOTS (threads per row lane) and FMA (chain_fma.wgsl).
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
#include "chain_fma.wgsl"

const ROWS: u32 = {{ROWS}}u;
const NB: u32 = {{NB}}u;
const SLOTS: u32 = {{SLOTS}}u;
const LANES: u32 = 8u;
const PER_ROW: u32 = SLOTS * LANES;
const WG: u32 = ROWS * PER_ROW;

var<workgroup> block_lanes: array<f32, ROWS * NB * LANES>;
var<workgroup> block_scale: array<f32, ROWS * NB>;
var<workgroup> lane_val: array<f32, ROWS * LANES>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first_row = (wid.x + wid.y * P.grid_x) * ROWS;
  if (first_row >= P.rows) {
    return;
  }
  let r = lid / PER_ROW;
  let slot = (lid / LANES) % SLOTS;
  let lane = lid % LANES;
  let row = first_row + r;
  // A row past the end reads the last row (its result is dropped): every thread meets every barrier.
  let rbase = min(row, P.rows - 1u) * P.row_bytes;
  let xbase = wid.z * P.x_stride;
  for (var c = slot; c < NB; c += SLOTS) {
    let b = rbase + c * BLOCK_BYTES;
    let at = r * NB + c;
    block_lanes[at * LANES + lane] = f32(word_idot(b, lane, x_word(xbase, c, lane)));
    if (lane == 0u) {
      block_scale[at] = half_to_f32(w_u16(b)) * x_scale(xbase, c);
    }
  }
  workgroupBarrier();
  if (slot == 0u) {
    var acc = 0.0;
    for (var c = 0u; c < NB; c++) {
      let at = r * NB + c;
      acc = chain_fma(block_lanes[at * LANES + lane], block_scale[at], acc);
    }
    lane_val[r * LANES + lane] = acc;
  }
  workgroupBarrier();
  if (slot == 0u && lane == 0u && row < P.rows) {
    let a = r * LANES;
    let y = ((lane_val[a] + lane_val[a + 4u]) + (lane_val[a + 2u] + lane_val[a + 6u])) +
            ((lane_val[a + 1u] + lane_val[a + 5u]) + (lane_val[a + 3u] + lane_val[a + 7u]));
    store_output(wid.z, P.row_base + row, y);
  }
}
