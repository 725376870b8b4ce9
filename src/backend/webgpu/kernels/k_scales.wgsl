// The 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K block, from its 12 packed bytes at s.
fn scale_min_k4(s: u32, j: u32) -> vec2<u32> {
  if (j < 4u) {
    return vec2<u32>(w_u8(s + j) & 63u, w_u8(s + j + 4u) & 63u);
  }
  let sc = (w_u8(s + j + 4u) & 15u) | ((w_u8(s + j - 4u) >> 6u) << 4u);
  let m = (w_u8(s + j + 4u) >> 4u) | ((w_u8(s + j) >> 6u) << 4u);
  return vec2<u32>(sc, m);
}

// All eight 6-bit scales and mins of a Q4_K / Q5_K block at byte b, four to a word (sub-block j in byte j % 4
// of word j / 4): three whole-word reads (a block starts on a word) for matvec_k_decode.wgsl's lanes.
struct KScaleWords {
  sc: vec2<u32>,  // scales of sub-blocks 0..3, 4..7
  mn: vec2<u32>,  // mins
}
fn k_scale_words(b: u32) -> KScaleWords {
  let s0 = W[(b + 4u) >> 2u];
  let s1 = W[(b + 8u) >> 2u];
  let s2 = W[(b + 12u) >> 2u];
  return KScaleWords(vec2<u32>(s0 & 0x3f3f3f3fu, (s2 & 0x0f0f0f0fu) | ((s0 >> 2u) & 0x30303030u)),
                     vec2<u32>(s1 & 0x3f3f3f3fu, ((s2 >> 4u) & 0x0f0f0f0fu) | ((s1 >> 2u) & 0x30303030u)));
}
// The two bytes of `w` for sub-blocks 2p and 2p + 1 (p = 0..3), in bits 0..7 and 8..15.
fn k_pair(w: vec2<u32>, p: u32) -> u32 {
  return select(w.x, w.y, p >= 2u) >> ((p & 1u) * 16u);
}
// Lane l (< 4)'s int32 of the mins: min of sub-blocks 2l, 2l + 1 times their activation sums, from `g` = the
// sums of 16-value groups 4l..4l+3.
fn k_min_lane(ks: KScaleWords, l: u32, g: vec4<i32>) -> i32 {
  let m = k_pair(ks.mn, l);
  return i32(m & 0xffu) * (g.x + g.y) + i32((m >> 8u) & 0xffu) * (g.z + g.w);
}
