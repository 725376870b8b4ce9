// Sum of double-length values (exact_float.wgsl) across a workgroup of WG threads, for the CPU's double
// accumulations. Every thread must call it (it has barriers); every thread gets the result.
var<workgroup> reduce_dd: array<vec2<f32>, WG>;

fn workgroup_sum_dd(v: vec2<f32>, lid: u32) -> vec2<f32> {
  reduce_dd[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      reduce_dd[lid] = dd_add_dd(reduce_dd[lid], reduce_dd[lid + s]);
    }
    workgroupBarrier();
  }
  let r = reduce_dd[0];
  workgroupBarrier();
  return r;
}

// The CPU's rms_norm scale: squares rounded to float, summed in double, mean rounded to float, then
// 1 / sqrt(mean + eps) in float. `ss` is this thread's double-length partial sum of squares.
fn rms_scale(ss: vec2<f32>, lid: u32, n: u32, eps: f32) -> f32 {
  let mean = dd_div_to_f32(workgroup_sum_dd(ss, lid), f32(n));
  return 1.0 / sqrt(mean + eps);
}
