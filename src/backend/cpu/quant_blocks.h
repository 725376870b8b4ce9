#pragma once
// GGUF/ggml block formats as plain structs, byte-exact with ggml's block_* types. Fields are little-endian
// on disk; "half" is an IEEE binary16 bit pattern. Bits per weight (bpw) include the scales.
#include <cstddef>
#include <cstdint>

namespace hearth::cpu {

constexpr int kQK4_0 = 32;  // elements per Q4_0 block
constexpr int kQK8_0 = 32;  // elements per Q8_0 block
constexpr int kQK_K = 256;  // elements per K-quant super-block
constexpr int kKScaleBytes = 12;

// Q4_0: 32 weights, 18 bytes, 4.5 bpw. w[j] = d * ((qs[j] & 0xF) - 8), w[j + 16] = d * ((qs[j] >> 4) - 8).
struct BlockQ4_0 {
  uint16_t d;      // half scale
  uint8_t qs[16];  // low nibbles hold elements 0..15, high nibbles elements 16..31
};

// Q8_0: 32 weights, 34 bytes, 8.5 bpw. w[j] = d * qs[j].
struct BlockQ8_0 {
  uint16_t d;  // half scale
  int8_t qs[32];
};

// Q4_K: 256 weights in 8 sub-blocks of 32, 144 bytes, 4.5 bpw.
// scales[12] packs 8 six-bit scales and 8 six-bit mins (see get_scale_min_k4):
//   j < 4: scale = scales[j] & 63, min = scales[j + 4] & 63
//   j >= 4: scale = (scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4),
//           min   = (scales[j + 4] >> 4)  | ((scales[j] >> 6) << 4)
// qs: for each 64-element chunk c (32 bytes), low nibbles are sub-block 2c, high nibbles sub-block 2c+1.
// w = d * scale * q - dmin * min.
struct BlockQ4_K {
  uint16_t d;     // half super-scale for the scales
  uint16_t dmin;  // half super-scale for the mins
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kQK_K / 2];
};

// Q5_K: like Q4_K plus a fifth bit per weight, 176 bytes, 5.5 bpw. Within chunk c, bit 2c of qh[l] is the
// high bit of element l of sub-block 2c, bit 2c+1 that of sub-block 2c+1 (l < 32).
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};

// Q6_K: 256 weights in 16 sub-blocks of 16, 210 bytes, 6.5625 bpw. w = d * scales[sub] * (q - 32), q in
// [0, 63]. Per 128-element half h (ql += 64, qh += 32 per half), for l < 32:
//   q[l]      = (ql[l] & 0xF)      | ((qh[l] >> 0) & 3) << 4
//   q[l + 32] = (ql[l + 32] & 0xF) | ((qh[l] >> 2) & 3) << 4
//   q[l + 64] = (ql[l] >> 4)       | ((qh[l] >> 4) & 3) << 4
//   q[l + 96] = (ql[l + 32] >> 4)  | ((qh[l] >> 6) & 3) << 4
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};

// Q8_K: activation format for the K-quants, 292 bytes per 256 values. d is a float (not half); bsums[g]
// is the sum of qs over group g of 16, used to apply the K-quant mins cheaply.
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};

// F16 (IEEE binary16, 16 bpw) and BF16 (top half of an f32, 16 bpw) are plain uint16_t arrays.

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// Unpacks the 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block.
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

}  // namespace hearth::cpu
