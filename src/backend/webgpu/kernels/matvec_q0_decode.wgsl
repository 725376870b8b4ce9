// y[t][row] = dot(W row, x[t]) for Q4_0 weights with rows a multiple of 8, one token per workgroup row
// (decode), in matvec_q0.wgsl's LANES = 1 order (llama.cpp's repacked Q4_0: one chain per row over whole-
// block integer dots), so bit-equal to the CPU backend; but the exact block dots are spread over a thread
// per (row, block), CB blocks a step, and only the chain acc = fma(float(idot), d_w * d_x, acc) over a
// step's blocks runs in order, in one thread per row. (Q8_0's eight chains per row stay in matvec_q0.wgsl:
// with the adapter's fma() it measured faster there on the H100.)
// Specialized by {{WEIGHT}} (weight_q4_0: word_idot) and FMA (fma where the adapter's fma() rounds once,
// probed by Ops, else fma_exact).
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

const ROWS: u32 = {{ROWS}}u;
const CB: u32 = 64u;  // blocks per step
const WG: u32 = ROWS * CB;

var<workgroup> vals: array<f32, WG>;
var<workgroup> scales: array<f32, WG>;

#include "chain_fma.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first_row = (wid.x + wid.y * P.grid_x) * ROWS;
  if (first_row >= P.rows) {
    return;
  }
  let r = lid / CB;
  let k = lid % CB;
  let row = first_row + r;
  let valid = row < P.rows;
  let rbase = row * P.row_bytes;
  let n_blocks = P.cols / 32u;
  let tok = wid.z;
  let xbase = tok * P.x_stride;
  var acc = 0.0;
  for (var c0 = 0u; c0 < n_blocks; c0 += CB) {
    let nb = min(CB, n_blocks - c0);
    if (valid && k < nb) {
      let c = c0 + k;
      let b = rbase + c * BLOCK_BYTES;
      var idot = 0i;
      for (var j = 0u; j < 8u; j++) {
        idot += word_idot(b, j, x_word(xbase, c, j));
      }
      vals[lid] = f32(idot);
      scales[lid] = half_to_f32(w_u16(b)) * x_scale(xbase, c);
    }
    workgroupBarrier();
    if (valid && k == 0u) {
      for (var j = 0u; j < nb; j++) {
        acc = chain_fma(vals[lid + j], scales[lid + j], acc);
      }
    }
    workgroupBarrier();
  }
  if (valid && k == 0u) {
    store_output(tok, P.row_base + row, acc);
  }
}
