// Is this adapter's unpack2x16float exact for every half (subnormals included)? Ops runs it once over all
// 65,536 bit patterns against the bit-level decoding and counts mismatches (NaN matches any NaN); with
// none, the F16 decode matvec uses the built-in (one instruction on GPUs) instead of ~10 integer operations.
#include "float_formats.wgsl"

@group(0) @binding(0) var<storage, read_write> MISMATCHES: atomic<u32>;

// On the bits: a compiler may assume floats are never NaN.
fn same(a: f32, b: f32) -> bool {
  let x = bitcast<u32>(a);
  let y = bitcast<u32>(b);
  return x == y || ((x & 0x7fffffffu) > 0x7f800000u && (y & 0x7fffffffu) > 0x7f800000u);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let h = 2u * gid.x;  // words hold patterns h (low) and h + 1 (high)
  let got = unpack2x16float(h | ((h + 1u) << 16u));
  if (!same(got.x, half_to_f32(h)) || !same(got.y, half_to_f32(h + 1u))) {
    atomicAdd(&MISMATCHES, 1u);
  }
}
