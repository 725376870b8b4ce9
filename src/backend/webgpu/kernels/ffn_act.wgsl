// y = act(gate) * up with act = SiLU or GELU (tanh form). GELU follows ggml's CPU table lookup: the input
// is rounded to f16 and so is the result. SiLU follows the CPU backend: x / (1 + exp(-x)) with ggml_v_expf
// on all but the row's last n % 16 values (libm's expf there) when the CPU runs its AVX-512 kernels
// (ggml_exp = 1), else libm's expf throughout. gate and up may be halves of one row (phi3's fused
// weights, or hearth's own concatenation of gate and up). The output may be rounded to f16/bf16 values or
// also quantized to Q8_0/Q8_K for the down projection (round_out, quant: as rms_norm.wgsl); each
// workgroup's 256 values are whole blocks.
#include "float_formats.wgsl"
#include "exact_float.wgsl"

struct Params {
  n_tok: u32,
  n: u32,
  g_stride: u32,
  g_offset: u32,
  u_stride: u32,
  u_offset: u32,
  gelu: u32,
  ggml_exp: u32,
  round_out: u32,
  quant: u32,
  q_stride: u32,
  fused_fma: u32,  // the adapter's fma() rounds once (exp_ggml_fma)
}

@group(0) @binding(0) var<storage, read> G: array<f32>;
@group(0) @binding(1) var<storage, read> U: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<storage, read_write> XQ: array<u32>;
@group(0) @binding(4) var<uniform> P: Params;
#include "quantize_in_group.wgsl"

fn produced_value(i: u32) -> f32 {
  return Y[i];
}

fn gelu_f16(x: f32) -> f32 {
  if (x <= -10.0) {
    return 0.0;
  }
  if (x >= 10.0) {
    return x;
  }
  let h = f16_round(x);
  let g = 0.5 * h * (1.0 + tanh_accurate(0.7978845608028654 * h * (1.0 + 0.044715 * h * h)));
  return f16_round(g);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let start = wid.x * 256u;
  let i = start + lid;
  let t = wid.y;
  if (t >= P.n_tok) {
    return;
  }
  if (i < P.n) {
    let g = G[t * P.g_stride + P.g_offset + i];
    let u = U[t * P.u_stride + P.u_offset + i];
    var a = 0.0;
    if (P.gelu != 0u) {
      a = gelu_f16(g);
    } else {
      var e = 0.0;
      if (P.ggml_exp != 0u && i < P.n - P.n % 16u) {
        e = exp_ggml_fma(0.0 - g, P.fused_fma != 0u);
      } else {
        e = exp_accurate(-g);
      }
      a = g / (1.0 + e);
    }
    Y[t * P.n + i] = round_output(a * u, P.round_out);
  }
  if (P.quant != 0u) {
    let qb = t * P.q_stride + select(start / 256u * 65u, start / 32u * 9u, P.quant == 1u);
    quantize_row_in_group(t * P.n + start, min(256u, P.n - start), qb, P.quant, lid);
  }
}
