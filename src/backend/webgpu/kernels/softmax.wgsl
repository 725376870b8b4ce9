// Softmax of each row in place (max-subtracted), one workgroup per row.
struct Params {
  rows: u32,
  n: u32,
  stride: u32,
}

@group(0) @binding(0) var<storage, read_write> X: array<f32>;
@group(0) @binding(1) var<uniform> P: Params;

const WG: u32 = 256u;
#include "workgroup_reduce.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  if (r >= P.rows) {
    return;
  }
  let b = r * P.stride;
  var mx = -3.4e38;
  for (var i = lid; i < P.n; i += WG) {
    mx = max(mx, X[b + i]);
  }
  mx = workgroup_max(mx, lid);
  var sum = 0.0;
  for (var i = lid; i < P.n; i += WG) {
    let e = exp(X[b + i] - mx);
    X[b + i] = e;
    sum += e;
  }
  let inv = 1.0 / workgroup_sum(sum, lid);
  for (var i = lid; i < P.n; i += WG) {
    X[b + i] *= inv;
  }
}
