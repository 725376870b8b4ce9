#pragma once
// Inline binary16 / bfloat16 <-> f32 conversions, round-to-nearest-even, as ggml's scalar paths.
#include <cstdint>
#include <cstring>

namespace hearth::cpu::detail {

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bits_f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  const uint32_t mant = h & 0x3FF;
  if (exp == 0) {
    // zero or subnormal: mant * 2^-24 is exact in f32
    return bits_f32(sign | f32_bits(static_cast<float>(mant) * 0x1p-24f));
  }
  if (exp == 31) return bits_f32(sign | 0x7F800000u | (mant << 13));
  return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

inline uint16_t float_to_half(float f) {
  const uint32_t x = f32_bits(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t ax = x & 0x7FFFFFFF;
  if (ax > 0x7F800000) return sign | 0x7E00;   // NaN -> quiet NaN (as ggml)
  if (ax >= 0x477FF000) return sign | 0x7C00;  // rounds to >= 65520: infinity
  if (ax < 0x38800000) {
    // Result is subnormal: adding 0.5f puts the half's last mantissa bit at the f32 ulp, so the FPU's
    // round-to-nearest-even does the rounding.
    const float r = bits_f32(ax) + 0.5f;
    return sign | static_cast<uint16_t>(f32_bits(r) - 0x3F000000u);
  }
  const uint32_t odd = (ax >> 13) & 1;
  return sign | static_cast<uint16_t>((ax + 0xC8000FFFu + odd) >> 13);
}

inline float bf16_to_float(uint16_t h) { return bits_f32(static_cast<uint32_t>(h) << 16); }

inline uint16_t float_to_bf16(float f) {
  const uint32_t u = f32_bits(f);
  if ((u & 0x7FFFFFFF) > 0x7F800000) return static_cast<uint16_t>((u >> 16) | 64);  // quiet the NaN
  return static_cast<uint16_t>((u + (0x7FFF + ((u >> 16) & 1))) >> 16);
}

}  // namespace hearth::cpu::detail
