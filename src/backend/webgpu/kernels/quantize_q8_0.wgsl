// Activations to Q8_0 (per 32 values: d = amax / 127 stored rounded to f16, q = round-half-even(x * 127 / amax)),
// exactly as the CPU backend quantizes them before its integer dot products. Eight threads per block (one
// output word of 4 values each), eight blocks per workgroup, workgroups.y = tokens: a 2048-wide row is
// 8 workgroups of short work instead of 64 threads each walking a whole block.
#include "float_formats.wgsl"
#include "exact_float.wgsl"

struct Params {
  cols: u32,
  n_tok: u32,
  x_stride: u32,   // floats per token in X
  out_stride: u32, // words per token in XQ
}

@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> XQ: array<u32>;
@group(0) @binding(2) var<uniform> P: Params;

var<workgroup> amax_buf: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let blocks = P.cols / 32u;
  let t = wid.y;
  let blk = wid.x * 8u + lid / 8u;
  let lane = lid % 8u;
  let valid = blk < blocks;
  let xb = t * P.x_stride + blk * 32u + 4u * lane;
  var v = vec4<f32>(0.0);
  if (valid) {
    v = vec4<f32>(X[xb], X[xb + 1u], X[xb + 2u], X[xb + 3u]);
  }
  // max is exact in any order.
  amax_buf[lid] = max(max(abs(v.x), abs(v.y)), max(abs(v.z), abs(v.w)));
  workgroupBarrier();
  for (var s = 4u; s > 0u; s >>= 1u) {
    if (lane < s) {
      amax_buf[lid] = max(amax_buf[lid], amax_buf[lid + s]);
    }
    workgroupBarrier();
  }
  if (!valid) {
    return;
  }
  let amax = amax_buf[lid - lane];
  // Correctly rounded divisions, as the CPU's (WGSL's "/" may be off by an ulp or two).
  let d = dd_div_to_f32(vec2<f32>(amax, 0.0), 127.0);
  let id = select(0.0, dd_div_to_f32(vec2<f32>(127.0, 0.0), amax), amax != 0.0);
  let ob = t * P.out_stride + blk * 9u;
  if (lane == 0u) {
    XQ[ob] = bitcast<u32>(f16_round(d));
  }
  var word = 0u;
  for (var b = 0u; b < 4u; b++) {
    let q = i32(round(v[b] * id));
    word |= (u32(q) & 0xffu) << (8u * b);
  }
  XQ[ob + 1u + lane] = word;
}
