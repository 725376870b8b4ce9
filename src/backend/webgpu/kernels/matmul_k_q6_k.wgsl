// Q6_K's lanes for matmul_k.wgsl (weight_q6_k.wgsl's kq_lane_g): 210-byte super-blocks (not always on a
// word); chunk s = 4h + k of lane l pairs quant word l of half h, low/high nibble by k / 2, with its
// signed scale. The -32 offset is the lane's two 16-value groups 2l, 2l + 1 times -32 * their scales.
const BLOCK_BYTES: u32 = 210u;
const KQ_MINS: bool = false;

fn k_d(b: u32) -> f32 {
  return half_to_f32(w_u16(b + 208u));
}
fn k_dmin(b: u32) -> f32 {
  return 0.0;
}

fn k_lane(b: u32, l: u32) -> KLane {
  let hi_half = select(0u, 1u, l >= 4u);
  var k: KLane;
  for (var h = 0u; h < 2u; h++) {
    let qh = w_u32(b + 128u + 32u * h + 4u * l);
    for (var j = 0u; j < 2u; j++) {
      let ql = w_u32(b + 64u * h + 32u * j + 4u * l);
      let s = 4u * h + j;
      k.q[s] = (ql & 0x0f0f0f0fu) | (((qh >> (2u * j)) & 0x03030303u) << 4u);
      k.q[s + 2u] = ((ql >> 4u) & 0x0f0f0f0fu) | (((qh >> (2u * j + 4u)) & 0x03030303u) << 4u);
      k.sc[s] = w_i8(b + 192u + 8u * h + 2u * j + hi_half);
      k.sc[s + 2u] = w_i8(b + 196u + 8u * h + 2u * j + hi_half);
    }
  }
  k.g = vec2<i32>(-32 * w_i8(b + 192u + 2u * l), -32 * w_i8(b + 193u + 2u * l));
  return k;
}

// Groups 4(l/2)..4(l/2)+3 are read; lane l takes 2l and 2l + 1 of them.
fn k_group_base(l: u32) -> u32 {
  return 4u * (l >> 1u);
}
fn k_group_sums(l: u32, g: vec4<i32>) -> vec2<i32> {
  let odd = (l & 1u) == 1u;
  return vec2<i32>(select(g.x, g.z, odd), select(g.y, g.w, odd));
}
