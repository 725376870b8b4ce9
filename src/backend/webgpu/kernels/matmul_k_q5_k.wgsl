// Q5_K's lanes for matmul_k.wgsl (weight_q5_k.wgsl's kq_lane_g): as Q4_K's, 176-byte super-blocks (on a
// word) whose sub-block s takes its fifth bit from bit s of the high-bit word l.
#include "k_scales.wgsl"
const BLOCK_BYTES: u32 = 176u;
const KQ_MINS: bool = true;

fn k_d(b: u32) -> f32 {
  return half_to_f32(w_u16(b));
}
fn k_dmin(b: u32) -> f32 {
  return half_to_f32(w_u16(b + 2u));
}

fn k_lane(b: u32, l: u32) -> KLane {
  let ks = k_scale_words(b);
  let qh = W[(b + 16u + 4u * l) >> 2u];
  var k: KLane;
  for (var p = 0u; p < 4u; p++) {
    let q = W[(b + 48u + 32u * p + 4u * l) >> 2u];
    let sc = k_pair(ks.sc, p);
    k.q[2u * p] = (q & 0x0f0f0f0fu) | (((qh >> (2u * p)) & 0x01010101u) << 4u);
    k.q[2u * p + 1u] = ((q >> 4u) & 0x0f0f0f0fu) | (((qh >> (2u * p + 1u)) & 0x01010101u) << 4u);
    k.sc[2u * p] = i32(sc & 0xffu);
    k.sc[2u * p + 1u] = i32((sc >> 8u) & 0xffu);
  }
  let m = k_pair(ks.mn, l & 3u);
  k.g = select(vec2<i32>(0i), vec2<i32>(i32(m & 0xffu), i32((m >> 8u) & 0xffu)), l < 4u);
  return k;
}

fn k_group_base(l: u32) -> u32 {
  return 4u * (l & 3u);
}
fn k_group_sums(l: u32, g: vec4<i32>) -> vec2<i32> {
  return vec2<i32>(g.x + g.y, g.z + g.w);
}
