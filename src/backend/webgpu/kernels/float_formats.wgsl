// Exact f16 / bf16 conversions with round-to-nearest-even, as hearth's CPU backend (and ggml) do them.
// WGSL leaves the rounding of its own f32 -> f16 conversions to the implementation, so they are spelled
// out here on the bits.

fn half_to_f32(h: u32) -> f32 {
  let sign = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 0u) {
    let v = f32(m) * 5.9604644775390625e-8;  // m * 2^-24: subnormal halves
    return select(v, -v, sign != 0u);
  }
  if (e == 31u) {
    return bitcast<f32>(sign | 0x7f800000u | (m << 13u));
  }
  return bitcast<f32>(sign | ((e + 112u) << 23u) | (m << 13u));
}

fn f16_bits(f: f32) -> u32 {
  let x = bitcast<u32>(f);
  let sign = (x >> 16u) & 0x8000u;
  let a = x & 0x7fffffffu;
  if (a >= 0x7f800000u) {
    return sign | select(0x7c00u, 0x7e00u, a > 0x7f800000u);
  }
  if (a >= 0x477ff000u) {
    return sign | 0x7c00u;  // rounds past the largest half
  }
  if (a < 0x38800000u) {
    // Below the smallest normal half: the result is round(|f| * 2^24) units of 2^-24.
    return sign | u32(round(bitcast<f32>(a) * 16777216.0));
  }
  let e = a - 0x38000000u;
  return sign | ((e + 0xfffu + ((e >> 13u) & 1u)) >> 13u);
}

fn f16_round(f: f32) -> f32 {
  return half_to_f32(f16_bits(f));
}

fn bf16_round(f: f32) -> f32 {
  let x = bitcast<u32>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) {
    return bitcast<f32>((x | 0x00400000u) & 0xffff0000u);
  }
  return bitcast<f32>(((x + 0x7fffu + ((x >> 16u) & 1u)) >> 16u) << 16u);
}

// An activation as the matmul that reads it sees it: 0 unchanged, 1 rounded to f16, 2 rounded to bf16.
fn round_output(v: f32, mode: u32) -> f32 {
  if (mode == 1u) {
    return f16_round(v);
  }
  if (mode == 2u) {
    return bf16_round(v);
  }
  return v;
}
