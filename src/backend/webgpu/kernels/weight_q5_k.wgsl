// Q5_K weights: super-blocks of 256 in 176 bytes (f16 d, f16 dmin, 12 scale bytes, 32 bytes of high bits,
// 128 bytes of nibbles). Sub-block s takes its fifth bit from bit s of qh[l]. w = d*sc*q - dmin*m.
#include "k_scales.wgsl"
const BLOCK_BYTES: u32 = 176u;

fn chunk_dot(rbase: u32, c: u32, xbase: u32) -> f32 {
  let s = c & 7u;
  let b = rbase + (c >> 3u) * 176u;
  let sm = scale_min_k4(b + 4u, s);
  let qb = b + 48u + (s >> 1u) * 32u;
  let shift = (s & 1u) * 4u;
  var dot = 0i;
  var xsum = 0i;
  for (var k = 0u; k < 8u; k++) {
    let x = x_word(xbase, c, k);
    let q = ((w_u32(qb + 4u * k) >> shift) & 0x0f0f0f0fu) | (((w_u32(b + 16u + 4u * k) >> s) & 0x01010101u) << 4u);
    dot += dot4I8Packed(q, x);
    xsum += byte_sum(x);
  }
  let xd = x_scale(xbase, c);
  return half_to_f32(w_u16(b)) * xd * f32(i32(sm.x) * dot) - half_to_f32(w_u16(b + 2u)) * xd * f32(i32(sm.y) * xsum);
}

fn weight_value(rbase: u32, j: u32) -> f32 {
  let b = rbase + (j >> 8u) * 176u;
  let s = (j >> 5u) & 7u;
  let l = j & 31u;
  let sm = scale_min_k4(b + 4u, s);
  let q = ((w_u8(b + 48u + (s >> 1u) * 32u + l) >> ((s & 1u) * 4u)) & 15u) | (((w_u8(b + 16u + l) >> s) & 1u) << 4u);
  let d1 = half_to_f32(w_u16(b)) * f32(sm.x);
  let m1 = half_to_f32(w_u16(b + 2u)) * f32(sm.y);
  return d1 * f32(q) - m1;
}

// For matvec_k.wgsl: the CPU's int32 lane l of one super-block, as weight_q4_k.wgsl's, with fifth bits.
const KQ_MINS: bool = true;
fn kq_d(b: u32) -> f32 {
  return half_to_f32(w_u16(b));
}
fn kq_dmin(b: u32) -> f32 {
  return half_to_f32(w_u16(b + 2u));
}
fn kq_lane(b: u32, l: u32, xbase: u32, c0: u32) -> vec2<i32> {
  var isum = 0i;
  for (var s = 0u; s < 8u; s++) {
    let q = ((w_u32(b + 48u + (s >> 1u) * 32u + 4u * l) >> ((s & 1u) * 4u)) & 0x0f0f0f0fu) |
            (((w_u32(b + 16u + 4u * l) >> s) & 0x01010101u) << 4u);
    isum += i32(scale_min_k4(b + 4u, s).x) * dot4I8Packed(q, x_word(xbase, c0 + s, l));
  }
  var msum = 0i;
  if (l < 4u) {
    for (var s = 2u * l; s < 2u * l + 2u; s++) {
      var xs = 0i;
      for (var k = 0u; k < 8u; k++) {
        xs += byte_sum(x_word(xbase, c0 + s, k));
      }
      msum += i32(scale_min_k4(b + 4u, s).y) * xs;
    }
  }
  return vec2<i32>(isum, msum);
}

// For matvec_k_decode.wgsl: kq_lane as weight_q4_k.wgsl's kq_lane_g, with fifth bits (bit s of the high-bit
// word). A block is 176 bytes, so it starts on a word.
fn kq_group_base(l: u32) -> u32 {
  return 4u * (l & 3u);
}
fn kq_lane_g(b: u32, l: u32, xbase: u32, c0: u32, g: vec4<i32>) -> vec2<i32> {
  let ks = k_scale_words(b);
  let qh = W[(b + 16u + 4u * l) >> 2u];
  var isum = 0i;
  for (var p = 0u; p < 4u; p++) {
    let q = W[(b + 48u + 32u * p + 4u * l) >> 2u];
    let sc = k_pair(ks.sc, p);
    let qa = (q & 0x0f0f0f0fu) | (((qh >> (2u * p)) & 0x01010101u) << 4u);
    let qb = ((q >> 4u) & 0x0f0f0f0fu) | (((qh >> (2u * p + 1u)) & 0x01010101u) << 4u);
    isum += i32(sc & 0xffu) * dot4I8Packed(qa, x_word(xbase, c0 + 2u * p, l));
    isum += i32((sc >> 8u) & 0xffu) * dot4I8Packed(qb, x_word(xbase, c0 + 2u * p + 1u, l));
  }
  return vec2<i32>(isum, select(0i, k_min_lane(ks, l, g), l < 4u));
}
