// The 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K block, from its 12 packed bytes at s.
fn scale_min_k4(s: u32, j: u32) -> vec2<u32> {
  if (j < 4u) {
    return vec2<u32>(w_u8(s + j) & 63u, w_u8(s + j + 4u) & 63u);
  }
  let sc = (w_u8(s + j + 4u) & 15u) | ((w_u8(s + j - 4u) >> 6u) << 4u);
  let m = (w_u8(s + j + 4u) >> 4u) | ((w_u8(s + j) >> 6u) << 4u);
  return vec2<u32>(sc, m);
}
