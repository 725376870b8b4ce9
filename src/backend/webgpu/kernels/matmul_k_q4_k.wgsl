// Q4_K's lanes for matmul_k.wgsl (the int32 lanes of weight_q4_k.wgsl's kq_lane_g): 144-byte super-blocks
// (on a word), sub-blocks 2p and 2p + 1 in the low and high nibbles of quant chunk p; lanes 0..3 also
// carry the mins of sub-blocks 2l, 2l + 1, which multiply those sub-blocks' activation sums.
#include "k_scales.wgsl"
const BLOCK_BYTES: u32 = 144u;
const KQ_MINS: bool = true;

fn k_d(b: u32) -> f32 {
  return half_to_f32(w_u16(b));
}
fn k_dmin(b: u32) -> f32 {
  return half_to_f32(w_u16(b + 2u));
}

fn k_lane(b: u32, l: u32) -> KLane {
  let ks = k_scale_words(b);
  var k: KLane;
  for (var p = 0u; p < 4u; p++) {
    let q = W[(b + 16u + 32u * p + 4u * l) >> 2u];
    let sc = k_pair(ks.sc, p);
    k.q[2u * p] = q & 0x0f0f0f0fu;
    k.q[2u * p + 1u] = (q >> 4u) & 0x0f0f0f0fu;
    k.sc[2u * p] = i32(sc & 0xffu);
    k.sc[2u * p + 1u] = i32((sc >> 8u) & 0xffu);
  }
  let m = k_pair(ks.mn, l & 3u);
  k.g = select(vec2<i32>(0i), vec2<i32>(i32(m & 0xffu), i32((m >> 8u) & 0xffu)), l < 4u);
  return k;
}

// The groups k_group_sums takes: 4l..4l+3 (sub-blocks 2l, 2l + 1).
fn k_group_base(l: u32) -> u32 {
  return 4u * (l & 3u);
}
fn k_group_sums(l: u32, g: vec4<i32>) -> vec2<i32> {
  return vec2<i32>(g.x + g.y, g.z + g.w);
}
