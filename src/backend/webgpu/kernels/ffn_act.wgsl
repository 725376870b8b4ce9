// y = act(gate) * up with act = SiLU or GELU (tanh form). GELU follows ggml's CPU table lookup: the input
// is rounded to f16 and so is the result. SiLU follows the CPU backend: x / (1 + exp(-x)) with ggml_v_expf
// on all but the row's last n % 16 values (libm's expf there) when the CPU runs its AVX-512 kernels
// (ggml_exp = 1), else libm's expf throughout. gate and up may be halves of one fused row (phi3).
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
}

@group(0) @binding(0) var<storage, read> G: array<f32>;
@group(0) @binding(1) var<storage, read> U: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<uniform> P: Params;

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
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let t = gid.y;
  if (i >= P.n || t >= P.n_tok) {
    return;
  }
  let g = G[t * P.g_stride + P.g_offset + i];
  let u = U[t * P.u_stride + P.u_offset + i];
  var a = 0.0;
  if (P.gelu != 0u) {
    a = gelu_f16(g);
  } else {
    var e = 0.0;
    if (P.ggml_exp != 0u && i < P.n - P.n % 16u) {
      e = exp_ggml(0.0 - g);
    } else {
      e = exp_accurate(-g);
    }
    a = g / (1.0 + e);
  }
  Y[t * P.n + i] = a * u;
}
