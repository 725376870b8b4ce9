// After a block's output projection: x += (post_norm ? rms_norm(o) * post_weight : o), then
// xn = rms_norm(x) * norm_weight (the next norm, when wanted). One workgroup per token; the norms use the
// CPU's arithmetic (rms_norm.wgsl); xn optionally rounded to f16/bf16 values or also quantized to Q8_0/Q8_K
// for the matvecs that read it (round_out, quant: as rms_norm.wgsl).
#include "float_formats.wgsl"

struct Params {
  n_tok: u32,
  n: u32,
  eps: f32,
  has_post: u32,
  has_norm: u32,
  round_out: u32,
  quant: u32,
  q_stride: u32,
}

@group(0) @binding(0) var<storage, read_write> X: array<f32>;
@group(0) @binding(1) var<storage, read> O: array<f32>;
@group(0) @binding(2) var<storage, read> POST_WEIGHT: array<f32>;
@group(0) @binding(3) var<storage, read> NORM_WEIGHT: array<f32>;
@group(0) @binding(4) var<storage, read_write> XN: array<f32>;
@group(0) @binding(5) var<storage, read_write> XQ: array<u32>;
@group(0) @binding(6) var<uniform> P: Params;

const WG: u32 = 256u;
#include "exact_float.wgsl"
#include "workgroup_sum_dd.wgsl"
#include "quantize_in_group.wgsl"

fn produced_value(i: u32) -> f32 {
  return XN[i];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.x;
  if (t >= P.n_tok) {
    return;
  }
  let b = t * P.n;
  var post_scale = 1.0;
  if (P.has_post != 0u) {
    var ss = vec2<f32>(0.0, 0.0);
    for (var i = lid; i < P.n; i += WG) {
      ss = dd_add(ss, O[b + i] * O[b + i]);
    }
    post_scale = rms_scale(ss, lid, P.n, P.eps);
  }
  var ss2 = vec2<f32>(0.0, 0.0);
  for (var i = lid; i < P.n; i += WG) {
    var o = O[b + i];
    if (P.has_post != 0u) {
      o = (o * post_scale) * POST_WEIGHT[i];
    }
    let x = X[b + i] + o;
    X[b + i] = x;
    ss2 = dd_add(ss2, x * x);
  }
  if (P.has_norm == 0u) {
    return;
  }
  let scale = rms_scale(ss2, lid, P.n, P.eps);
  for (var i = lid; i < P.n; i += WG) {
    XN[b + i] = round_output((X[b + i] * scale) * NORM_WEIGHT[i], P.round_out);
  }
  if (P.quant != 0u) {
    quantize_row_in_group(b, P.n, t * P.q_stride, P.quant, lid);
  }
}
