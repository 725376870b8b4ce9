// y[t][row] = dot(W row, x[t]) for Q8_0 / Q4_0 weights and Q8_0 activations, one token (decode), in
// matvec_q0.wgsl's order (bit-equal to the CPU) with one thread per row: LANES = 8 keeps the eight float
// lane chains in registers and sums them as hsum256 does; LANES = 1 is the one chain per row of llama.cpp's
// repacked Q4_0. No workgroup memory and no barrier: for software adapters (SwiftShader), where a barrier
// costs more than the rows it shares. Specialized by {{WEIGHT}} (word_idot), LANES and FMA (chain_fma.wgsl).
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

const WG: u32 = 64u;
const LANES: u32 = {{LANES}}u;

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
  for (var c = 0u; c < P.cols / 32u; c++) {
    let b = rbase + c * BLOCK_BYTES;
    let scale = half_to_f32(w_u16(b)) * x_scale(xbase, c);
    if (LANES == 8u) {
      for (var k = 0u; k < 8u; k++) {
        acc[k] = chain_fma(f32(word_idot(b, k, x_word(xbase, c, k))), scale, acc[k]);
      }
    } else {
      var idot = 0i;
      for (var k = 0u; k < 8u; k++) {
        idot += word_idot(b, k, x_word(xbase, c, k));
      }
      acc[0] = chain_fma(f32(idot), scale, acc[0]);
    }
  }
  var y = acc[0];
  if (LANES == 8u) {
    y = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
  }
  store_output(tok, P.row_base + row, y);
}
