#pragma once
// The WebGPU kernels as C++ calls that record one dispatch each into a Recorder: matvec/matmul with the
// weights dequantized in the shader, activation quantization, embeddings, norms, rotary embedding + KV
// store, attention, gated activations, softmax and argmax. Each dispatch gets its own slot of a uniform
// parameter buffer, written to the GPU once per submit, and bind groups are created once and reused.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backend/cpu/kernels.h"
#include "backend/webgpu/device.h"
#include "hearth/tensor_type.h"

namespace hearth::webgpu {

// How a matvec wants its input: plain f32, rounded to f16 / bf16 (kept as f32 words), or quantized
// (as the CPU backend converts activations, once per matmul, so every product agrees exactly with it).
enum class ActFormat { F32, F16, BF16, Q8_0, Q8_K };
ActFormat act_format(TensorType weight_type);
// Words per token of a quantized activation row of `cols` values.
uint32_t act_words(ActFormat f, int64_t cols);

// A weight matrix in its GGUF block format on the GPU, split by rows into bindings that each fit
// maxStorageBufferBindingSize.
// The activation format that every matmul reading an op's output needs, prepared by that op itself
// (then Ops::quantize() need not run): F16/BF16 round the output in place; Q8_0/Q8_K also write it
// quantized to `xq` (act_words(format, n) words per row). F32: nothing.
struct ActFold {
  ActFormat format = ActFormat::F32;
  const Buffer* xq = nullptr;
};

struct GpuWeight {
  struct Part {
    Buffer buffer;
    int64_t row_begin = 0;
    int64_t rows = 0;
  };
  TensorType type = TensorType::F32;
  int64_t rows = 0, cols = 0;
  uint64_t row_bytes = 0;
  std::vector<Part> parts;

  bool valid() const { return !parts.empty(); }
  // max_part_bytes: 0 = the adapter's binding limit (tests pass a small value to force splitting).
  static GpuWeight upload(Device& d, const cpu::WeightMatrix& w, uint64_t max_part_bytes = 0);
};

bool webgpu_supports_weight_type(TensorType t);

// cos/sin of every rotary angle for positions [0, n_ctx) as [pos][n_rot / 2] pairs, computed on the host
// exactly as the CPU backend's rope() does (same float recurrence, same libm), so GPU and CPU rotate
// identically; WGSL's cos/sin are too loose for large angles.
std::vector<float> rope_table(int64_t n_ctx, int64_t n_rot, float base, float scale, const std::vector<float>& factors);

class Ops {
 public:
  // max_dispatches: most dispatches one submit may record (each takes a 256-byte parameter slot).
  explicit Ops(Device& device, uint32_t max_dispatches = 4096);
  Device& device() { return d_; }

  // Starts a new batch of work: parameter slots are handed out from the first again.
  Recorder begin();
  // Uploads this batch's parameters, then submits (and optionally reads back `bytes` into dst).
  void submit(Recorder& r);
  void submit_and_read(Recorder& r, const Buffer& readback, void* dst, uint64_t bytes);

  void quantize(Recorder& r, ActFormat f, const Buffer& x, int64_t n_tok, int64_t cols, int64_t x_stride,
                const Buffer& out);
  // y[t * y_stride + y_offset + row] = W[row] . x[t] (+ bias[row]) (softcapped) (+= when accumulate).
  // x is f32 (x_stride floats per token) or already quantized to act_format(w.type).
  void matvec(Recorder& r, const GpuWeight& w, const Buffer& x, int64_t n_tok, int64_t x_stride, const Buffer& y,
              int64_t y_stride, int64_t y_offset = 0, const Buffer* bias = nullptr, float softcap = 0.0f,
              bool accumulate = false);
  // Embeddings: y[t] = scale * W[batch[t].token].
  void get_rows(Recorder& r, const GpuWeight& w, const Buffer& batch, int64_t n_tok, const Buffer& y, float scale);
  // y[r] = rms_norm(x[src]) * weight; src = r, or batch[r].out_row when gather.
  void rms_norm(Recorder& r, const Buffer& x, const Buffer* weight, const Buffer& y, int64_t rows, int64_t n,
                int64_t x_stride, int64_t y_stride, float eps, const Buffer* gather_batch = nullptr, ActFold fold = {});
  void residual_norm(Recorder& r, const Buffer& x, const Buffer& o, const Buffer* post_weight,
                     const Buffer* norm_weight, const Buffer& xn, int64_t n_tok, int64_t n, float eps,
                     ActFold fold = {});
  struct RopeStoreArgs {
    int64_t n_tok, n_head, n_head_kv, hd, hdv, n_rot, n_ctx;
    bool neox;
    bool qk_norm;
    float eps;
    float q_scale;
    uint64_t k_layer_word, v_layer_word;  // word offsets of the layer in the caches
  };
  // qkv: per token, the n_head * hd query values, then n_head_kv * hd keys, then n_head_kv * hdv values
  // (one joined matvec's output); the rotated queries go to q_out.
  void rope_store(Recorder& r, const RopeStoreArgs& a, const Buffer& qkv, const Buffer& q_out, const Buffer& k_cache,
                  const Buffer& v_cache, const Buffer* q_norm, const Buffer* k_norm, const Buffer& rope_table,
                  const Buffer& batch);
  struct AttentionArgs {
    int64_t n_tok, n_head, n_head_kv, hd, hdv, n_ctx;
    uint64_t k_layer_word, v_layer_word;
    float scale, softcap;
    int64_t window;
    // F16/BF16: the output comes rounded as the matvec reading it (wo) needs it, instead of a pass.
    ActFormat out_format = ActFormat::F32;
  };
  void attention(Recorder& r, const AttentionArgs& a, const Buffer& q, const Buffer& k_cache, const Buffer& v_cache,
                 const Buffer& out, const Buffer& scores, const Buffer& batch);
  void ffn_act(Recorder& r, bool gelu, const Buffer& g, int64_t g_stride, int64_t g_offset, const Buffer& u,
               int64_t u_stride, int64_t u_offset, const Buffer& y, int64_t n_tok, int64_t n, ActFold fold = {});
  void argmax(Recorder& r, const Buffer& x, int64_t rows, int64_t n, int64_t stride, const Buffer& out);
  void softmax(Recorder& r, const Buffer& x, int64_t rows, int64_t n, int64_t stride);

  int dispatches_last_submit() const { return last_dispatches_; }

  // Whether the quantized matvecs' in-order float chains use the adapter's fma(), which the constructor
  // found to round once as the CPU's FMA does (NVIDIA's), or the exact emulation (SwiftShader's rounds
  // twice). Tests force the fma() kernels on to run them on any adapter.
  bool fused_fma() const { return fused_fma_; }
  void set_fused_fma(bool on) { fused_fma_ = on; }
  // Whether the adapter is a software one (SwiftShader: a CPU), which takes the barrier-free kernels.
  bool software() const { return software_; }
  // Whether quantized prefill matmuls take matmul_int8.wgsl (llama.cpp's order: an exact int32 dot per
  // sub-block, one float step per super-block; close to the CPU, not bit-equal) or the kernels that keep
  // the CPU's float order (matmul_k.wgsl, matmul_q0.wgsl). int8 by default; HEARTH_PREFILL_MATMUL=exact.
  bool int8_matmul() const { return int8_matmul_; }
  void set_int8_matmul(bool on) { int8_matmul_ = on; }
  // matmul_int8.wgsl's tile: rows a thread (4 or 8) x sub-blocks a K step (2 or 4). 4 x 4 by default (H100
  // run 17: +6.8% Q4_K_M prefill over 4 x 2, 8 x 4 -1.6%), 4 x 2 where the adapter's workgroup memory is
  // under its 27 KiB; HEARTH_INT8_TILE=RTxSUBS overrides. K-quant mins are summed in int32 per super-block
  // as llama.cpp does; float_mins sums them in float per sub-block instead (one fused multiply-add, no
  // integer accumulator per output: fewer registers; HEARTH_INT8_FLOAT_MINS=1). halves: each sub-block's
  // dots as two 16-value halves, also for fewer registers (HEARTH_INT8_HALVES=1). Both pass the op tests
  // and are not yet timed on a GPU, so neither is the default.
  struct Int8Tile {
    int rt = 4, subs = 4;
    bool float_mins = false;
    bool halves = false;
  };
  Int8Tile int8_tile() const { return int8_tile_; }
  void set_int8_tile(Int8Tile t) { int8_tile_ = t; }
  // Attention over 16+ tokens (prefill) in one tiled pass (attention_tiled.wgsl), or, off, the two passes
  // that follow the CPU's order bit for bit. On by default; HEARTH_PREFILL_ATTENTION=exact turns it off.
  bool tiled_attention() const { return tiled_attention_; }
  void set_tiled_attention(bool on) { tiled_attention_ = on; }
  // The tiled kernel's (tokens, positions) per workgroup for these head sizes on this adapter: the largest
  // tile whose workgroup memory fits; {0, 0} where none does (the two passes run instead).
  std::pair<int64_t, int64_t> attention_tile(int64_t hd, int64_t hdv) const;
  // Rows a thread of the float prefill matmul sums (matmul_float.wgsl): 8 on GPUs (H100 run 16, F16 prefill
  // +8.7% over 4), 4 on software adapters; HEARTH_FLOAT_TILE=4|8 overrides.
  int float_rows() const { return float_rows_; }
  void set_float_rows(int rows) { float_rows_ = rows == 8 ? 8 : 4; }
  // Whether the F16 decode matvec converts halves with unpack2x16float, which the constructor found exact
  // for every half (else a bit-level decoding). Tests force either to run both on any adapter.
  bool exact_unpack_half() const { return exact_unpack_half_; }
  void set_exact_unpack_half(bool on) { exact_unpack_half_ = on; }
  // Whether one-token F32/F16/BF16 matvecs take matvec_float_decode.wgsl: on GPUs; not on SwiftShader, which
  // keeps its per-row sums (an indexed array) in memory and ran a BF16 fixture's decode 17x slower with it
  // (0.2 vs 3.5 tok/s). Tests force it on to check it on any adapter.
  bool float_decode() const { return float_decode_; }
  void set_float_decode(bool on) { float_decode_ = on; }
  // Which kernel one-token K-quant matvecs take: matvec_k_rows.wgsl (a thread per row and int32 lane walks
  // the whole row), matvec_k_decode.wgsl (slots: a row's super-blocks spread over threads, meeting in
  // workgroup memory each step), matvec_k_wide.wgsl (a thread per row, super-block slot and lane, every
  // load in flight at once, two barriers) or matvec_k_thread.wgsl (a thread per row, no barrier). By default
  // thread on software adapters (SwiftShader: 2.4-3.7x the rows kernel on LM heads), wide on GPUs, with the
  // rows kernel for matrices over 65,535 rows (LM heads): H100 run 17, Q4_K_M decode 527.5 tok/s vs 516.0
  // with every matrix wide (H200 run 15: wide 529.3 vs slots 502.5). All are bit-equal to the CPU;
  // HEARTH_KQ_DECODE=rows[N] / slots / wide[N] / thread forces one (benchmarks).
  enum class KqDecode { Rows, Slots, Wide, Thread };
  KqDecode kq_decode() const { return kq_decode_; }
  void set_kq_decode(KqDecode k) { kq_decode_ = k; }
  // One-token Q8_0 (and 8-lane Q4_0) matvecs of at most this many rows take matvec_q0_wide.wgsl (a thread
  // per row, block slot and lane; the float chains folded from workgroup memory), the rest matvec_q0.wgsl
  // (a thread per row lane walks every block). GPUs: up to 16,383 rows (the constructor says why);
  // software adapters: none. HEARTH_Q0_DECODE=wide[N]|lanes moves the line (benchmarks).
  int64_t q0_wide_max_rows() const { return q0_wide_max_rows_; }
  void set_q0_wide_max_rows(int64_t rows) { q0_wide_max_rows_ = rows; }
  // One-token Q8_0 / Q4_0 matvecs with a thread per row (matvec_q0_thread.wgsl, no barrier): software adapters.
  bool q0_thread() const { return q0_thread_; }
  void set_q0_thread(bool on) { q0_thread_ = on; }

 private:
  struct Slot {
    uint32_t index;
    uint8_t* data;
  };
  Slot param_slot();
  // decode_rows > 0: the K-quant one-token kernel (matvec_k_decode.wgsl) with that many rows per workgroup.
  const Pipeline& matvec_pipeline(TensorType t, int tile, int lanes, int threads, int decode_rows = 0);
  bool probe_fused_fma();
  // matvec of many tokens (prefill) through the tiled kernels of ops_matmul.cpp; false (nothing recorded)
  // for fewer tokens than those kernels' tiles pay off at, which the matvec kernels then take.
  bool matmul(Recorder& r, const GpuWeight& w, const Buffer& x, int64_t n_tok, int64_t x_stride, const Buffer& y,
              int64_t y_stride, int64_t y_offset, const Buffer* bias, float softcap, bool accumulate);
  bool probe_exact_unpack_half();
  // attention() through attention_tiled.wgsl where the token count and head sizes suit it; false otherwise.
  bool attention_tiled(Recorder& r, const AttentionArgs& a, const Buffer& q, const Buffer& k_cache,
                       const Buffer& v_cache, const Buffer& out, const Buffer& batch);
  // One-token F32/F16/BF16 matvec with 16-byte loads (matvec_float_decode.wgsl); false where the rows
  // are not whole 16-byte vectors.
  bool float_decode_matvec(Recorder& r, const GpuWeight& w, const Buffer& x, const Buffer& y, int64_t y_stride,
                           int64_t y_offset, const Buffer* bias, float softcap, bool accumulate);
  // What every matvec dispatch shares: per binding of W (a weight split over bindings), the parameters,
  // workgroups of rows_per_wg rows laid out within the per-dimension limit, and z = token groups.
  struct MatvecCall {
    const Buffer& x;
    uint32_t n_tok, x_stride;
    const Buffer& y;
    int64_t y_stride, y_offset;
    const Buffer* bias;
    float softcap;
    bool accumulate;
  };
  void dispatch_matvec(Recorder& r, const Pipeline& pl, const GpuWeight& w, const MatvecCall& c, int64_t rows_per_wg,
                       uint32_t z);
  // A one-token kernel specialized by the weight's type, the adapter's FMA and `sizes` (each also in the
  // cached pipeline's name), over workgroups of rows_per_wg rows.
  void dispatch_decode_kernel(Recorder& r, const char* file, const GpuWeight& w,
                              std::initializer_list<std::pair<const char*, int64_t>> sizes, int64_t rows_per_wg,
                              const MatvecCall& c);
  // One-token K-quant matvecs through matvec_k_rows.wgsl / matvec_k_wide.wgsl and Q8_0 / 8-lane Q4_0 ones
  // through matvec_q0_wide.wgsl; false (nothing recorded) where their workgroup memory would not fit.
  bool kq_rows_matvec(Recorder& r, const GpuWeight& w, const MatvecCall& c);
  bool kq_thread_matvec(Recorder& r, const GpuWeight& w, const MatvecCall& c);
  bool kq_wide_matvec(Recorder& r, const GpuWeight& w, const MatvecCall& c);
  bool q0_wide_matvec(Recorder& r, const GpuWeight& w, const MatvecCall& c);
  const Pipeline& cached_pipeline(const std::string& name, const std::function<std::string()>& source);
  const Pipeline& simple_pipeline(const std::string& file);
  // Records pipeline + buffers (+ this dispatch's parameter slot as the last binding `param_binding`).
  void dispatch(Recorder& r, const Pipeline& p, std::vector<Binding> b, uint32_t param_binding, const Slot& s,
                uint32_t x, uint32_t y = 1, uint32_t z = 1);
  const Buffer& or_dummy(const Buffer* b) const { return b ? *b : dummy_; }
  // A writable binding may not share its buffer with any other binding of the dispatch.
  const Buffer& or_dummy_out(const Buffer* b) const { return b ? *b : dummy_out_; }

  Device& d_;
  Buffer dummy_;      // bound where a kernel's optional input is absent
  Buffer dummy_out_;  // and where its optional output is
  Buffer argmax_parts_;          // argmax's per-chunk (value, index) pairs
  std::vector<Buffer> retired_;  // buffers replaced while recorded work may still use them
  Buffer params_;
  std::vector<uint8_t> params_host_;
  uint32_t slots_used_ = 0;
  uint32_t slot_capacity_ = 0;
  std::unordered_map<std::string, BindGroup> bind_cache_;
  std::unordered_map<std::string, const Pipeline*> pipelines_;  // by name; the Device owns them
  int last_dispatches_ = 0;
  bool fused_fma_ = false;
  bool int8_matmul_ = true;
  Int8Tile int8_tile_;
  bool tiled_attention_ = true;
  int float_rows_ = 4;
  bool exact_unpack_half_ = false;
  bool float_decode_ = true;
  KqDecode kq_decode_ = KqDecode::Rows;  // by adapter in the constructor
  int64_t q0_wide_max_rows_ = 0;
  bool q0_thread_ = false;
  int64_t kq_wide_max_rows_ = INT64_MAX;  // with Wide chosen, K-quant matrices of more rows take the rows kernel
  int64_t kq_wide_max_nb_ = INT64_MAX;  // rows with more super-blocks take the slots kernel (HEARTH_KQ_DECODE=wideN)
  int kq_rows_per_wg_ = 0;  // 0: by matrix size (kq_rows_matvec)
  bool software_ = false;  // SwiftShader (a CPU): see Ops::matvec
};

}  // namespace hearth::webgpu
