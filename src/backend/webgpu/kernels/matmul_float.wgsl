// Y = W X for F32 / F16 / BF16 weights and many tokens (prefill): 16 RT rows x 64 tokens per workgroup, the
// weights (converted to f32) and activations staged KS values at a time in workgroup memory, each thread
// summing RT rows x 4 tokens in f32 (a vec4 over its tokens per row; RT = 4 or 8). Summed in its own order, not the
// CPU's: float weights are compared by relative error, not bit for bit. The sums are spelled out with
// constant indices: SwiftShader keeps loop-indexed accumulator arrays in memory (5x slower there).
// Each thread stages 4 consecutive values of a weight row and of a token per step (weight_quad), loaded
// before the previous step's sums unless PREFETCH is off (HEARTH_FLOAT_NO_PREFETCH=1, for measuring).
// Specialized by {{WEIGHT}} (weight_f32 / f16 / f16_unpacked / bf16.wgsl: weight_quad), RT and PREFETCH.
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
const RT: u32 = {{RT}}u;
const TILE: u32 = 64u;      // tokens per workgroup
const BM: u32 = 16u * RT;   // rows per workgroup
const KS: u32 = 16u;        // values of the row per step (rows are whole 32-value blocks)
const PREFETCH: bool = {{PREFETCH}};
// [k][quad]: the k-th value of rows (tokens) 4 quad .. 4 quad + 3.
var<workgroup> ws: array<vec4<f32>, KS * BM / 4u>;
var<workgroup> xt: array<vec4<f32>, KS * TILE / 4u>;

// A thread's staging loads of one step: 4 values (from k) of its weight row, of its second row (RT = 8) and
// of its token.
struct StepLoads {
  w: vec4<f32>,
  w2: vec4<f32>,
  x: vec4<f32>,
}

fn step_loads(rbase: u32, rbase2: u32, tok_ok: bool, xbase: u32, k: u32) -> StepLoads {
  var l = StepLoads(vec4<f32>(), vec4<f32>(), vec4<f32>());  // tokens past the prompt stage zeros
  l.w = weight_quad(rbase, k);
  if (RT == 8u) {
    l.w2 = weight_quad(rbase2, k);
  }
  if (tok_ok) {
    l.x = vec4<f32>(x_value(xbase, k), x_value(xbase, k + 1u), x_value(xbase, k + 2u), x_value(xbase, k + 3u));
  }
  return l;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first_row = (wid.x + wid.y * P.grid_x) * BM;
  if (first_row >= P.rows) {
    return;
  }
  let t0 = wid.z * TILE;
  // Loading: thread -> row (and token) lr of the tile, values lk .. lk + 3 of the step.
  let lr = lid / 4u;
  let lk = (lid % 4u) * 4u;
  let rbase = min(first_row + lr, P.rows - 1u) * P.row_bytes;
  let rbase2 = min(first_row + 64u + lr, P.rows - 1u) * P.row_bytes;  // RT = 8: the second 64 rows
  let tok_ok = t0 + lr < P.n_tok;
  let xbase = (t0 + lr) * P.x_stride;
  // Summing: thread -> rows 4 ty .. 4 ty + 3 (and 64 + 4 ty .. for RT = 8), tokens 4 tx .. 4 tx + 3.
  let tx = lid % 16u;
  let ty = lid / 16u;
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
  var acc4 = vec4<f32>();
  var acc5 = vec4<f32>();
  var acc6 = vec4<f32>();
  var acc7 = vec4<f32>();
  // This thread's staging loads of a step: 4 values of its weight row (two rows for RT = 8) and of its token.
  var next: StepLoads;
  var k0 = 0u;
  loop {
    // The loads for step k0: issued before step k0 - KS's sums (PREFETCH), which hide their latency.
    if (k0 == 0u || !PREFETCH) {
      next = step_loads(rbase, rbase2, tok_ok, xbase, k0 + lk);
    }
    workgroupBarrier();
    for (var i = 0u; i < 4u; i++) {
      let k = lk + i;
      ws[k * (BM / 4u) + lr / 4u][lr % 4u] = next.w[i];
      if (RT == 8u) {
        ws[k * (BM / 4u) + 16u + lr / 4u][lr % 4u] = next.w2[i];
      }
      xt[k * 16u + lr / 4u][lr % 4u] = next.x[i];
    }
    workgroupBarrier();
    let k1 = k0 + KS;
    if (PREFETCH && k1 < P.cols) {
      next = step_loads(rbase, rbase2, tok_ok, xbase, k1 + lk);
    }
    for (var k = 0u; k < KS; k++) {
      let a = ws[k * (BM / 4u) + ty];
      let x = xt[k * 16u + tx];
      acc0 += a.x * x;
      acc1 += a.y * x;
      acc2 += a.z * x;
      acc3 += a.w * x;
      if (RT == 8u) {
        let b = ws[k * (BM / 4u) + 16u + ty];
        acc4 += b.x * x;
        acc5 += b.y * x;
        acc6 += b.z * x;
        acc7 += b.w * x;
      }
    }
    k0 = k1;
    if (k0 >= P.cols) {
      break;
    }
  }
  let acc = array<vec4<f32>, 8>(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);
  for (var r = 0u; r < RT; r++) {
    let row = first_row + 4u * ty + (r % 4u) + 64u * (r / 4u);
    for (var t = 0u; t < 4u; t++) {
      let tok = t0 + 4u * tx + t;
      if (row < P.rows && tok < P.n_tok) {
        store_output(tok, P.row_base + row, acc[r][t]);
      }
    }
  }
}
