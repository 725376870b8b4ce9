// Per token and head: optional RMSNorm of q/k heads (qwen3, gemma3), rotary embedding of q and k from a
// host-computed cos/sin table (so angles match the CPU bit for bit), optional pre-scaling of q, then k
// and v rounded to f16 into the KV cache; q goes to Q. The projections come as one row per token of QKV
// (q, then k at k_offset, then v at v_offset), as the joined q/k/v matvec writes them. Workgroup (head
// slot, token): slots are the n_head query heads, then the key heads, then the value heads.
#include "float_formats.wgsl"

struct Params {
  n_head: u32,
  n_head_kv: u32,
  hd: u32,          // key/query head size
  hdv: u32,         // value head size
  n_rot: u32,
  neox: u32,
  qk_norm: u32,
  eps: f32,
  q_scale: f32,     // 1 unless q is pre-scaled
  n_ctx: u32,
  k_layer_base: u32,  // word offset of this layer in KC
  v_layer_base: u32,
  qkv_stride: u32,  // floats per token in QKV
  k_offset: u32,
  v_offset: u32,
  fused_fma: u32,   // the adapter's fma() rounds once (fma_once)
}

@group(0) @binding(0) var<storage, read_write> Q: array<f32>;
@group(0) @binding(1) var<storage, read> QKV: array<f32>;
@group(0) @binding(2) var<storage, read_write> KC: array<u32>;
@group(0) @binding(3) var<storage, read_write> VC: array<u32>;
@group(0) @binding(4) var<storage, read> Q_NORM: array<f32>;
@group(0) @binding(5) var<storage, read> K_NORM: array<f32>;
@group(0) @binding(6) var<storage, read> ROPE: array<vec2<f32>>;  // [pos][n_rot / 2] (cos, sin)
@group(0) @binding(7) var<storage, read> BATCH: array<u32>;
@group(0) @binding(8) var<uniform> P: Params;

const WG: u32 = 64u;
#include "exact_float.wgsl"
#include "workgroup_sum_dd.wgsl"
var<workgroup> head: array<f32, 1024>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let slot = wid.x;
  let t = wid.y;
  let pos = BATCH[4u * t + 1u];
  let seq = BATCH[4u * t + 2u];
  let is_q = slot < P.n_head;
  let is_k = !is_q && slot < P.n_head + P.n_head_kv;
  if (!is_q && !is_k) {
    // Values: straight into the cache.
    let h = slot - P.n_head - P.n_head_kv;
    let src = t * P.qkv_stride + P.v_offset + h * P.hdv;
    let dst = P.v_layer_base + ((seq * P.n_ctx + pos) * P.n_head_kv * P.hdv + h * P.hdv) / 2u;
    for (var w = lid; w < P.hdv / 2u; w += WG) {
      VC[dst + w] = f16_bits(QKV[src + 2u * w]) | (f16_bits(QKV[src + 2u * w + 1u]) << 16u);
    }
    return;
  }
  var h = slot;
  var src = t * P.qkv_stride + slot * P.hd;
  if (!is_q) {
    h = slot - P.n_head;
    src = t * P.qkv_stride + P.k_offset + h * P.hd;
  }
  for (var i = lid; i < P.hd; i += WG) {
    head[i] = QKV[src + i];
  }
  workgroupBarrier();
  if (P.qk_norm != 0u) {
    var ss = vec2<f32>(0.0, 0.0);
    for (var i = lid; i < P.hd; i += WG) {
      ss = dd_add(ss, head[i] * head[i]);
    }
    let scale = rms_scale(ss, lid, P.hd, P.eps);
    for (var i = lid; i < P.hd; i += WG) {
      var w = K_NORM[i];
      if (is_q) {
        w = Q_NORM[i];
      }
      head[i] = (head[i] * scale) * w;
    }
    workgroupBarrier();
  }
  // Each pair belongs to one thread, so the rotation is in place without a race.
  let half_rot = P.n_rot / 2u;
  for (var p = lid; p < half_rot; p += WG) {
    var a = 2u * p;
    var b = a + 1u;
    if (P.neox != 0u) {
      a = p;
      b = p + half_rot;
    }
    let cs = ROPE[pos * half_rot + p];
    let x0 = head[a];
    let x1 = head[b];
    // The CPU's (and llama.cpp's FMA builds') fused form.
    head[a] = fma_once(x0, cs.x, -(x1 * cs.y), P.fused_fma != 0u);
    head[b] = fma_once(x0, cs.y, x1 * cs.x, P.fused_fma != 0u);
  }
  workgroupBarrier();
  if (is_q) {
    let dst = t * P.n_head * P.hd + slot * P.hd;
    for (var i = lid; i < P.hd; i += WG) {
      var v = head[i];
      if (P.q_scale != 1.0) {
        v *= P.q_scale;
      }
      Q[dst + i] = v;
    }
  } else {
    let dst = P.k_layer_base + ((seq * P.n_ctx + pos) * P.n_head_kv * P.hd + h * P.hd) / 2u;
    for (var w = lid; w < P.hd / 2u; w += WG) {
      KC[dst + w] = f16_bits(head[2u * w]) | (f16_bits(head[2u * w + 1u]) << 16u);
    }
  }
}
