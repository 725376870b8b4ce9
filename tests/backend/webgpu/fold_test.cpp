// The activation formats that the norms and the gated activation prepare for their readers (ActFold) are
// the very bytes the separate pass (Ops::quantize, itself compared with the CPU's blocks in ops_test.cpp)
// writes from the same output: f16/bf16 rounding in place, Q8_0 and Q8_K blocks, for rows of several
// blocks, several tokens, and a last workgroup that holds only part of 256 values.
#include <cstring>

#include "backend/webgpu/ops.h"
#include "hearth/error.h"
#include "webgpu_test_support.h"

namespace hearth::webgpu {
namespace {

using test::download;
using test::poison;
using test::upload;

std::vector<uint32_t> words(Device& d, const Buffer& b, size_t n) {
  std::vector<uint32_t> w(n);
  d.read(b, 0, w.data(), n * 4);
  return w;
}

// The format's bytes of `rows` rows of n values, written by Ops::quantize from `y` (or y itself for F32).
std::vector<uint32_t> separate_pass(Device& d, Ops& ops, ActFormat f, const Buffer& y, int64_t rows, int64_t n) {
  const size_t count = size_t(rows) * act_words(f, n);
  Buffer out = d.create_buffer(count * 4 + 16);
  poison(d, out);
  Recorder r = ops.begin();
  ops.quantize(r, f, y, rows, n, n, out);
  ops.submit(r);
  return words(d, out, count);
}

struct Case {
  ActFormat format;
  int64_t n;
};

std::string case_text(const Case& c) {
  static const char* const names[] = {"f32", "f16", "bf16", "q8_0", "q8_k"};
  return std::string(names[int(c.format)]) + "_" + std::to_string(c.n);
}
std::string case_name(const ::testing::TestParamInfo<Case>& info) { return case_text(info.param); }
void PrintTo(const Case& c, std::ostream* os) { *os << case_text(c); }

class FoldTest : public ::testing::TestWithParam<Case> {};

TEST_P(FoldTest, NormsAndActivationWriteTheSeparatePassBytes) {
  HEARTH_REQUIRE_GPU(dev);
  HEARTH_SEEDED_RNG(rng);
  const auto [f, n] = GetParam();
  const bool quantized = f == ActFormat::Q8_0 || f == ActFormat::Q8_K;
  const bool half = f == ActFormat::F16 || f == ActFormat::BF16;
  constexpr int64_t kTok = 3;
  Ops ops(*dev);
  const size_t qwords = size_t(kTok) * act_words(f, n);
  Buffer xq = dev->create_buffer(qwords * 4 + 16);
  const ActFold fold{f, quantized ? &xq : nullptr};

  // Compares what the folded op left in y (and xq) with the separate pass over the unfolded op's output.
  auto check = [&](const char* what, const Buffer& y_plain, const Buffer& y_folded) {
    const size_t count = size_t(kTok * n);
    const std::vector<float> plain = download(*dev, y_plain, count);
    const std::vector<float> folded = download(*dev, y_folded, count);
    if (half) {
      const std::vector<uint32_t> want = separate_pass(*dev, ops, f, y_plain, kTok, n);
      EXPECT_EQ(0, std::memcmp(want.data(), folded.data(), count * 4)) << what << ": rounded output";
    } else {
      EXPECT_EQ(0, std::memcmp(plain.data(), folded.data(), count * 4)) << what << ": float output";
    }
    if (quantized) {
      EXPECT_EQ(words(*dev, xq, qwords), separate_pass(*dev, ops, f, y_plain, kTok, n)) << what << ": blocks";
    }
  };

  const std::vector<float> x = test::random_floats(rng, size_t(kTok * n), 2.0f);
  const std::vector<float> w = test::random_floats(rng, size_t(n));
  Buffer xb = upload(*dev, x), wb = upload(*dev, w);
  {
    Buffer y0 = dev->create_buffer(x.size() * 4), y1 = dev->create_buffer(x.size() * 4);
    poison(*dev, y0);
    poison(*dev, y1);
    poison(*dev, xq);
    Recorder r = ops.begin();
    ops.rms_norm(r, xb, &wb, y0, kTok, n, n, n, 1e-5f);
    ops.rms_norm(r, xb, &wb, y1, kTok, n, n, n, 1e-5f, nullptr, fold);
    ops.submit(r);
    check("rms_norm", y0, y1);
  }
  {
    const std::vector<float> o = test::random_floats(rng, x.size());
    Buffer ob = upload(*dev, o), x0 = upload(*dev, x), x1 = upload(*dev, x);
    Buffer y0 = dev->create_buffer(x.size() * 4), y1 = dev->create_buffer(x.size() * 4);
    poison(*dev, y0);
    poison(*dev, y1);
    poison(*dev, xq);
    Recorder r = ops.begin();
    ops.residual_norm(r, x0, ob, &wb, &wb, y0, kTok, n, 1e-5f);
    ops.residual_norm(r, x1, ob, &wb, &wb, y1, kTok, n, 1e-5f, fold);
    ops.submit(r);
    check("residual_norm", y0, y1);
  }
  {
    // Gate and up as the two halves of one row, as the transformer lays out its joined matvec's output.
    const std::vector<float> gu = test::random_floats(rng, size_t(kTok * 2 * n), 3.0f);
    Buffer gub = upload(*dev, gu);
    Buffer y0 = dev->create_buffer(x.size() * 4), y1 = dev->create_buffer(x.size() * 4);
    poison(*dev, y0);
    poison(*dev, y1);
    poison(*dev, xq);
    Recorder r = ops.begin();
    ops.ffn_act(r, false, gub, 2 * n, 0, gub, 2 * n, n, y0, kTok, n);
    ops.ffn_act(r, false, gub, 2 * n, 0, gub, 2 * n, n, y1, kTok, n, fold);
    ops.submit(r);
    check("ffn_act", y0, y1);
  }
}

// 288 = one full 256-value workgroup and a last one with a single Q8_0 block; 2048 = 8 Q8_K super-blocks
// (two rounds of four in the norms).
INSTANTIATE_TEST_SUITE_P(Formats, FoldTest,
                         ::testing::Values(Case{ActFormat::F16, 288}, Case{ActFormat::BF16, 512},
                                           Case{ActFormat::Q8_0, 288}, Case{ActFormat::Q8_0, 2048},
                                           Case{ActFormat::Q8_K, 256}, Case{ActFormat::Q8_K, 2048}),
                         case_name);

TEST(FoldTest, RejectsPartialBlocksAndAMissingBuffer) {
  HEARTH_REQUIRE_GPU(dev);
  Ops ops(*dev);
  Buffer x = dev->create_buffer(4096), y = dev->create_buffer(4096), xq = dev->create_buffer(4096);
  Recorder r = ops.begin();
  EXPECT_THROW(ops.rms_norm(r, x, nullptr, y, 1, 300, 300, 300, 1e-5f, nullptr, {ActFormat::Q8_K, &xq}), Error);
  EXPECT_THROW(ops.rms_norm(r, x, nullptr, y, 1, 256, 256, 256, 1e-5f, nullptr, {ActFormat::Q8_0, nullptr}), Error);
  ops.submit(r);
}

}  // namespace
}  // namespace hearth::webgpu
