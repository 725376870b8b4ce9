// y = x / sqrt(mean(x^2) + eps) * weight, one workgroup per row, with the CPU's arithmetic (squares summed
// in double, then float), so a normalized activation quantizes to the same Q8 blocks on both. With `gather`, output row r reads input
// row BATCH[4r + 3] (the batch token whose logits are wanted). With round_out, the output is rounded to f16
// (1) or bf16 (2) values, as the CPU rounds an F16/BF16 matmul's input; with quant, it is also written as
// Q8_0 (1) or Q8_K (2) blocks to XQ (q_stride words per row), as the CPU quantizes a quantized matmul's
// input. Either way the matvecs that read it need no pass of their own.
#include "float_formats.wgsl"

struct Params {
  rows: u32,
  n: u32,
  x_stride: u32,
  y_stride: u32,
  eps: f32,
  has_weight: u32,
  gather: u32,
  round_out: u32,
  quant: u32,
  q_stride: u32,
}

@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> WEIGHT: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<storage, read> BATCH: array<u32>;
@group(0) @binding(4) var<storage, read_write> XQ: array<u32>;
@group(0) @binding(5) var<uniform> P: Params;

const WG: u32 = 256u;
#include "exact_float.wgsl"
#include "workgroup_sum_dd.wgsl"
#include "exact_float.wgsl"
#include "quantize_in_group.wgsl"

fn produced_value(i: u32) -> f32 {
  return Y[i];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  if (r >= P.rows) {
    return;
  }
  var src = r;
  if (P.gather != 0u) {
    src = BATCH[4u * r + 3u];
  }
  let xb = src * P.x_stride;
  var ss = vec2<f32>(0.0, 0.0);
  for (var i = lid; i < P.n; i += WG) {
    ss = dd_add(ss, X[xb + i] * X[xb + i]);
  }
  let scale = rms_scale(ss, lid, P.n, P.eps);
  let yb = r * P.y_stride;
  for (var i = lid; i < P.n; i += WG) {
    var v = X[xb + i] * scale;
    if (P.has_weight != 0u) {
      v *= WEIGHT[i];
    }
    Y[yb + i] = round_output(v, P.round_out);
  }
  if (P.quant != 0u) {
    quantize_row_in_group(yb, P.n, r * P.q_stride, P.quant, lid);
  }
}
