// y = W x for a batch of tokens. Activations are converted to the weight type's partner format once, then
// threads take contiguous chunks of weight rows and walk them in register tiles (tile_rows weight rows x
// tile_cols tokens), so in decode every weight byte is streamed exactly once and in prefill each loaded
// weight block is reused for several tokens.
#include <algorithm>
#include <atomic>
#include <string>

#include "backend/cpu/kernel_table.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/thread_pool.h"
#include "hearth/error.h"

namespace hearth::cpu {

namespace {

// Rows per cache block: the block's weights (a few tens of KB) stay in L1/L2 while all token tiles pass.
constexpr int64_t kRowBlock = 32;

void quantize_activations(const KernelTable& table, TensorType xt, const float* x, int64_t n_tokens, int64_t cols,
                          uint8_t* dst, size_t x_row, ThreadPool& pool) {
  QuantizeFn quantize = nullptr;
  switch (xt) {
    case TensorType::Q8_0:
      quantize = table.quantize_q8_0;
      break;
    case TensorType::Q8_K:
      quantize = table.quantize_q8_k;
      break;
    case TensorType::F16:
      quantize = [](const float* s, void* d, int64_t n) { fp32_to_fp16_row(s, static_cast<uint16_t*>(d), n); };
      break;
    case TensorType::BF16:
      quantize = [](const float* s, void* d, int64_t n) { quantize_row(TensorType::BF16, s, d, n); };
      break;
    default:
      throw Error("matmul: no activation conversion to " + std::string(cpu_type_name(xt)));
  }
  // A single row is quantized by the caller alone: waking the pool costs more than the work.
  if (n_tokens == 1 || pool.size() == 1) {
    for (int64_t t = 0; t < n_tokens; ++t) quantize(x + t * cols, dst + t * x_row, cols);
    return;
  }
  // The job captures one pointer so std::function keeps it inline (no allocation per call).
  struct Job {
    QuantizeFn quantize;
    const float* x;
    int64_t cols;
    uint8_t* dst;
    size_t x_row;
  } job{quantize, x, cols, dst, x_row};
  pool.parallel_for(n_tokens, [j = &job](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) j->quantize(j->x + t * j->cols, j->dst + t * j->x_row, j->cols);
  });
}

}  // namespace

void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, int64_t y_stride, ThreadPool& pool,
            MatmulScratch& scratch) {
  matmul_with(active_kernels(), w, x, n_tokens, y, y_stride, pool, scratch);
}

void matmul_with(const KernelTable& table, const WeightMatrix& w, const float* x, int64_t n_tokens, float* y,
                 int64_t y_stride, ThreadPool& pool, MatmulScratch& scratch) {
  if (n_tokens <= 0 || w.rows <= 0) return;
  if (y_stride < w.rows) {
    throw Error("matmul: output stride " + std::to_string(y_stride) + " is smaller than the row count " +
                std::to_string(w.rows));
  }
  const TypeKernels& k = type_kernels(table, w.type);
  const TensorType xt = vec_dot_type(w.type);
  if (w.cols % block_elems(w.type) != 0 || w.cols % block_elems(xt) != 0) {
    throw Error("matmul: " + std::to_string(w.cols) + " columns is not a multiple of the " + cpu_type_name(w.type) +
                " block size");
  }
  const size_t x_row = row_bytes(xt, w.cols);
  const uint8_t* xq = nullptr;
  if (xt == TensorType::F32) {
    xq = reinterpret_cast<const uint8_t*>(x);
  } else {
    const size_t need = x_row * static_cast<size_t>(n_tokens);
    if (scratch.quantized_x.size() < need) scratch.quantized_x.resize(need);
    quantize_activations(table, xt, x, n_tokens, w.cols, scratch.quantized_x.data(), x_row, pool);
    xq = scratch.quantized_x.data();
  }

  // Which tile walks the matrix: llama.cpp's repacked order where it would repack this matrix, its
  // single-token order for one token, its batch order otherwise.
  enum class Walk { Batch, Token, Group };
  Walk walk = Walk::Batch;
  int tr = k.tile_rows, tc = k.tile_cols;
  if (k.group_tile && k.interleave > 0 && w.rows % k.interleave == 0) {
    walk = Walk::Group;
    tr = k.interleave;
    tc = k.group_cols;
  } else if (n_tokens == 1 && k.token_tile) {
    walk = Walk::Token;
    tr = k.token_tile_rows;
    tc = 1;
  }

  // Everything the workers need, behind one pointer so std::function stores the job inline.
  struct Job {
    const TypeKernels* k;
    Walk walk;
    int tr, tc;
    const uint8_t* w;
    size_t w_row;
    int64_t rows, cols, n_tokens;
    const uint8_t* x;
    size_t x_row;
    float* y;
    int64_t y_stride;
    std::atomic<int64_t> next_row{0};
  } job{&k, walk, tr, tc, static_cast<const uint8_t*>(w.data), row_bytes(w.type, w.cols), w.rows, w.cols, n_tokens,
        xq, x_row, y, y_stride};

  // Threads take row chunks from a shared counter rather than fixed ranges: on a busy machine a thread
  // that loses its core for a while delays one chunk, not half the matrix. Chunks and row blocks are
  // multiples of the tile height, so a group tile always gets its full row count.
  pool.run([j = &job](int, int nt) {
    const int tr = j->tr, tc = j->tc;
    const int64_t row_block = std::max<int64_t>(kRowBlock / tr, 1) * tr;
    const int64_t chunk = std::max<int64_t>(row_block, (j->rows / (8 * nt)) / row_block * row_block);
    for (;;) {
      const int64_t c_begin = j->next_row.fetch_add(chunk, std::memory_order_relaxed);
      if (c_begin >= j->rows) break;
      const int64_t c_end = std::min(j->rows, c_begin + chunk);
      for (int64_t rb = c_begin; rb < c_end; rb += row_block) {
        const int64_t rb_end = std::min(c_end, rb + row_block);
        for (int64_t t = 0; t < j->n_tokens; t += tc) {
          const int nc = static_cast<int>(std::min<int64_t>(tc, j->n_tokens - t));
          const uint8_t* x = j->x + t * j->x_row;
          float* y = j->y + t * j->y_stride;
          for (int64_t r = rb; r < rb_end; r += tr) {
            const int nr = static_cast<int>(std::min<int64_t>(tr, rb_end - r));
            const uint8_t* w = j->w + r * j->w_row;
            switch (j->walk) {
              case Walk::Group:
                j->k->group_tile(j->cols, w, j->w_row, x, j->x_row, nc, y + r, j->y_stride);
                break;
              case Walk::Token:
                j->k->token_tile(j->cols, w, j->w_row, nr, x, j->x_row, nc, y + r, j->y_stride);
                break;
              case Walk::Batch:
                j->k->dot_tile(j->cols, w, j->w_row, nr, x, j->x_row, nc, y + r, j->y_stride);
                break;
            }
          }
        }
      }
    }
  });
}

}  // namespace hearth::cpu
