// hsum256 of one row's eight int32-lane chains, the CPU's order: (a0+a4 + a2+a6) + (a1+a5 + a3+a7), plus for
// Q4_K / Q5_K the four mins chains: (m0+m2) + (m1+m3). The including kernel declares the workgroup arrays
// lane_val and min_val; `a` is the index of the row's lane 0.
fn hsum_k_lanes(a: u32) -> f32 {
  var y = ((lane_val[a] + lane_val[a + 4u]) + (lane_val[a + 2u] + lane_val[a + 6u])) +
          ((lane_val[a + 1u] + lane_val[a + 5u]) + (lane_val[a + 3u] + lane_val[a + 7u]));
  if (KQ_MINS) {
    y = y + ((min_val[a] + min_val[a + 2u]) + (min_val[a + 1u] + min_val[a + 3u]));
  }
  return y;
}
