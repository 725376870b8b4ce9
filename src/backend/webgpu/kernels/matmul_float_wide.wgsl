// Y = W X for F32 / F16 / BF16 weights and many tokens, as matmul_float.wgsl but 4 RQ rows x 4 TQ tokens
// per thread (64 RQ x 64 TQ per workgroup): at 8 x 8 a thread's four vec4 reads from workgroup memory
// feed 64 multiply-adds instead of 16, which pays where a matrix is tall enough to still fill the GPU
// with the larger tiles. The sums are loops over constant bounds that the driver unrolls (NVIDIA's does;
// SwiftShader's keeps the accumulators in memory, which is why small matrices stay on matmul_float.wgsl).
// Summed in its own order, not the CPU's: float weights are compared by relative error.
// Specialized by {{WEIGHT}} (weight_f32 / f16 / bf16.wgsl: weight_value), RQ, TQ and KS.
#include "float_formats.wgsl"

#include "matvec_bindings.wgsl"

// > 0 soft-cap (gemma 2 logits)
fn capped(y: f32) -> f32 {
  return tanh(y / P.softcap) * P.softcap;
}

#include "weight_bytes.wgsl"
#include "act_f32.wgsl"
#include "{{WEIGHT}}.wgsl"

const WG: u32 = 256u;
const RQ: u32 = {{RQ}}u;  // row quads per thread
const TQ: u32 = {{TQ}}u;  // token quads per thread
const KS: u32 = {{KS}}u;  // values of the row per step (a divisor of 32: rows are whole 32-value blocks)
const TILE_ROWS: u32 = 64u * RQ;
const TILE_TOK: u32 = 64u * TQ;
// [k][quad]: the k-th value of rows (tokens) 4 quad .. 4 quad + 3.
var<workgroup> ws: array<vec4<f32>, KS * TILE_ROWS / 4u>;
var<workgroup> xt: array<vec4<f32>, KS * TILE_TOK / 4u>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first_row = (wid.x + wid.y * P.grid_x) * TILE_ROWS;
  if (first_row >= P.rows) {
    return;
  }
  let t0 = wid.z * TILE_TOK;
  // Thread (ty, tx) sums row quads ty + 16 i and token quads tx + 16 j: neighbouring threads read
  // neighbouring quads.
  let tx = lid % 16u;
  let ty = lid / 16u;
  var acc: array<vec4<f32>, 4u * RQ * TQ>;  // [4 i + row in quad][j]
  for (var k0 = 0u; k0 < P.cols; k0 += KS) {
    workgroupBarrier();
    // Neighbouring threads load neighbouring values of a row.
    for (var i = lid; i < TILE_ROWS * KS; i += WG) {
      let r = i / KS;
      let k = i % KS;
      ws[k * (TILE_ROWS / 4u) + r / 4u][r % 4u] = weight_value(min(first_row + r, P.rows - 1u) * P.row_bytes, k0 + k);
    }
    for (var i = lid; i < TILE_TOK * KS; i += WG) {
      let t = i / KS;
      let k = i % KS;
      var x = 0.0;
      if (t0 + t < P.n_tok) {
        x = x_value((t0 + t) * P.x_stride, k0 + k);
      }
      xt[k * (TILE_TOK / 4u) + t / 4u][t % 4u] = x;
    }
    workgroupBarrier();
    for (var k = 0u; k < KS; k++) {
      var xv: array<vec4<f32>, TQ>;
      for (var j = 0u; j < TQ; j++) {
        xv[j] = xt[k * (TILE_TOK / 4u) + tx + 16u * j];
      }
      for (var i = 0u; i < RQ; i++) {
        let a = ws[k * (TILE_ROWS / 4u) + ty + 16u * i];
        for (var j = 0u; j < TQ; j++) {
          acc[(4u * i) * TQ + j] += a.x * xv[j];
          acc[(4u * i + 1u) * TQ + j] += a.y * xv[j];
          acc[(4u * i + 2u) * TQ + j] += a.z * xv[j];
          acc[(4u * i + 3u) * TQ + j] += a.w * xv[j];
        }
      }
    }
  }
  for (var i = 0u; i < RQ; i++) {
    for (var q = 0u; q < 4u; q++) {
      let row = first_row + 4u * (ty + 16u * i) + q;
      for (var j = 0u; j < TQ; j++) {
        for (var t = 0u; t < 4u; t++) {
          let tok = t0 + 4u * (tx + 16u * j) + t;
          if (row < P.rows && tok < P.n_tok) {
            store_output(tok, P.row_base + row, acc[(4u * i + q) * TQ + j][t]);
          }
        }
      }
    }
  }
}
