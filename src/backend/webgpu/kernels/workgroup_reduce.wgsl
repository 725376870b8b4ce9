// Sum and max across a workgroup of WG threads through workgroup memory. Every thread must call these
// (they contain barriers) and every thread gets the result.
var<workgroup> reduce_buf: array<f32, WG>;

fn workgroup_sum(v: f32, lid: u32) -> f32 {
  reduce_buf[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      reduce_buf[lid] += reduce_buf[lid + s];
    }
    workgroupBarrier();
  }
  let r = reduce_buf[0];
  workgroupBarrier();
  return r;
}

fn workgroup_max(v: f32, lid: u32) -> f32 {
  reduce_buf[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      reduce_buf[lid] = max(reduce_buf[lid], reduce_buf[lid + s]);
    }
    workgroupBarrier();
  }
  let r = reduce_buf[0];
  workgroupBarrier();
  return r;
}
