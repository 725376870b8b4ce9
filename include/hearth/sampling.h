#pragma once
// Token sampling parameters, applied in llama.cpp's default order:
// penalties → top-k → top-p → min-p → temperature → draw (or argmax when temperature <= 0).
#include <cstdint>
#include <string>
#include <vector>

namespace hearth {

struct SamplingParams {
  float temperature = 0.8f;       // <= 0: greedy
  int32_t top_k = 40;             // <= 0: off
  float top_p = 0.95f;            // >= 1: off
  float min_p = 0.05f;            // <= 0: off
  float repeat_penalty = 1.0f;    // 1: off
  int32_t penalty_last_n = 64;    // how many recent tokens the penalties look at
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  uint64_t seed = 0xC0FFEE;

  static SamplingParams greedy() {
    SamplingParams p;
    p.temperature = 0.0f;
    return p;
  }
};

}  // namespace hearth
