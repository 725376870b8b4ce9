// Byte-addressed reads of GGUF blocks from the weight binding W (blocks are 18, 34 or 210 bytes, so a
// block need not start on a word boundary; every field does start on an even byte).

fn w_u8(b: u32) -> u32 {
  return (W[b >> 2u] >> ((b & 3u) * 8u)) & 0xffu;
}

fn w_u16(b: u32) -> u32 {
  return (W[b >> 2u] >> ((b & 2u) * 8u)) & 0xffffu;
}

// Four bytes starting at an even byte offset.
fn w_u32(b: u32) -> u32 {
  let i = b >> 2u;
  if ((b & 2u) == 0u) {
    return W[i];
  }
  return (W[i] >> 16u) | (W[i + 1u] << 16u);
}

fn w_i8(b: u32) -> i32 {
  return (i32(w_u8(b)) << 24u) >> 24u;
}

// Sum of the four signed bytes of a packed word.
fn byte_sum(x: u32) -> i32 {
  return dot4I8Packed(0x01010101u, x);
}
