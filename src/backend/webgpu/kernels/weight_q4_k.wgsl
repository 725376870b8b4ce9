// Q4_K weights: super-blocks of 256 in 144 bytes (f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128
// bytes of nibbles: 64-element chunk p holds sub-block 2p in low nibbles, 2p+1 in high), w = d*sc*q - dmin*m.
// A 32-value chunk is one sub-block; dotted with Q8_K activations in integers.
#include "k_scales.wgsl"
const BLOCK_BYTES: u32 = 144u;

fn chunk_dot(rbase: u32, c: u32, xbase: u32) -> f32 {
  let s = c & 7u;
  let b = rbase + (c >> 3u) * 144u;
  let sm = scale_min_k4(b + 4u, s);
  let qb = b + 16u + (s >> 1u) * 32u;
  let shift = (s & 1u) * 4u;
  var dot = 0i;
  var xsum = 0i;
  for (var k = 0u; k < 8u; k++) {
    let x = x_word(xbase, c, k);
    dot += dot4I8Packed((w_u32(qb + 4u * k) >> shift) & 0x0f0f0f0fu, x);
    xsum += byte_sum(x);
  }
  let xd = x_scale(xbase, c);
  return half_to_f32(w_u16(b)) * xd * f32(i32(sm.x) * dot) - half_to_f32(w_u16(b + 2u)) * xd * f32(i32(sm.y) * xsum);
}

fn weight_value(rbase: u32, j: u32) -> f32 {
  let b = rbase + (j >> 8u) * 144u;
  let s = (j >> 5u) & 7u;
  let sm = scale_min_k4(b + 4u, s);
  let q = (w_u8(b + 16u + (s >> 1u) * 32u + (j & 31u)) >> ((s & 1u) * 4u)) & 15u;
  let d1 = half_to_f32(w_u16(b)) * f32(sm.x);
  let m1 = half_to_f32(w_u16(b + 2u)) * f32(sm.y);
  return d1 * f32(q) - m1;
}

// For matvec_k.wgsl, the CPU's int32 lane l of one super-block (at byte b; activation chunks c0..c0+7):
// x = Σ over sub-blocks s of scale_s * (values 4l..4l+3 of s) . x; y (l < 4) = Σ over s = 2l, 2l+1 of
// min_s * (sum of sub-block s's activation quants).
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
    let q = (w_u32(b + 16u + (s >> 1u) * 32u + 4u * l) >> ((s & 1u) * 4u)) & 0x0f0f0f0fu;
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

// For matvec_k_decode.wgsl: kq_lane with the block's scales unpacked four at a time from its three scale
// words, and the activation sums taken from `g` = the sums of 16-value groups 4l..4l+3 (precomputed once
// per workgroup). A block is 144 bytes, so it starts on a word and every read here is a whole word.
fn kq_group_base(l: u32) -> u32 {
  return 4u * (l & 3u);
}
fn kq_lane_g(b: u32, l: u32, xbase: u32, c0: u32, g: vec4<i32>) -> vec2<i32> {
  let ks = k_scale_words(b);
  var isum = 0i;
  for (var p = 0u; p < 4u; p++) {
    let q = W[(b + 16u + 32u * p + 4u * l) >> 2u];
    let sc = k_pair(ks.sc, p);
    isum += i32(sc & 0xffu) * dot4I8Packed(q & 0x0f0f0f0fu, x_word(xbase, c0 + 2u * p, l));
    isum += i32((sc >> 8u) & 0xffu) * dot4I8Packed((q >> 4u) & 0x0f0f0f0fu, x_word(xbase, c0 + 2u * p + 1u, l));
  }
  return vec2<i32>(isum, select(0i, k_min_lane(ks, l, g), l < 4u));
}
