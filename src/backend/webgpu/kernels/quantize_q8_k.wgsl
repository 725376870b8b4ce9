// Activations to Q8_K (per 256 values: iscale = -127 / (the first value of largest magnitude),
// q = min(127, round-half-even(iscale * x)), d = 1 / iscale as f32), as the CPU backend does.
// One workgroup per super-block (workgroups.y = tokens), one thread per output word of 4 values; the
// value of largest magnitude is found by a tree that keeps the lower index on equal magnitudes.
#include "exact_float.wgsl"

struct Params {
  cols: u32,
  n_tok: u32,
  x_stride: u32,
  out_stride: u32,
}

@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> XQ: array<u32>;
@group(0) @binding(2) var<uniform> P: Params;

var<workgroup> best_abs: array<f32, 64>;
var<workgroup> best_val: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.y;
  let blk = wid.x;
  let xb = t * P.x_stride + blk * 256u + 4u * lid;
  let ob = t * P.out_stride + blk * 65u;
  let v = vec4<f32>(X[xb], X[xb + 1u], X[xb + 2u], X[xb + 3u]);
  // This thread's first value of largest magnitude (strictly larger replaces: the earlier one wins ties).
  var ba = 0.0;
  var bv = 0.0;
  for (var b = 0u; b < 4u; b++) {
    if (abs(v[b]) > ba) {
      ba = abs(v[b]);
      bv = v[b];
    }
  }
  best_abs[lid] = ba;
  best_val[lid] = bv;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lid < s && best_abs[lid + s] > best_abs[lid]) {  // the upper half holds later values
      best_abs[lid] = best_abs[lid + s];
      best_val[lid] = best_val[lid + s];
    }
    workgroupBarrier();
  }
  let amax = best_abs[0];
  if (amax == 0.0) {
    XQ[ob + 1u + lid] = 0u;
    if (lid == 0u) {
      XQ[ob] = 0u;
    }
    return;
  }
  // Correctly rounded divisions, as the CPU's (WGSL's "/" may be off by an ulp or two, and the scale
  // scales every product of the matvec).
  let iscale = dd_div_to_f32(vec2<f32>(-127.0, 0.0), best_val[0]);
  if (lid == 0u) {
    XQ[ob] = bitcast<u32>(dd_recip_to_f32(vec2<f32>(iscale, 0.0)));
  }
  var word = 0u;
  for (var b = 0u; b < 4u; b++) {
    let q = min(127, i32(round(iscale * v[b])));
    word |= (u32(q) & 0xffu) << (8u * b);
  }
  XQ[ob + 1u + lid] = word;
}
