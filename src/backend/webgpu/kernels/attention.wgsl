// Causal attention of one (token, head) over its sequence's cached keys and values (f16), mirroring the
// CPU backend (Transformer::attention) operation for operation: the query rounded to f16, each key dot in
// the AVX2 dot_rows order, exp as libm's expf, the sum of exps in double, the probabilities rounded to f16
// for the value sum, which runs over positions in order (f16 x f16 products are exact, so a plain multiply
// and add equals the CPU's FMA). Scores go through a scratch row in S.
// Serves decode (one token) and prefill (many) alike; GQA maps head h to key head h / group.
#include "float_formats.wgsl"
#include "exact_float.wgsl"

struct Params {
  n_tok: u32,
  n_head: u32,
  n_head_kv: u32,
  hd: u32,
  hdv: u32,
  n_ctx: u32,
  k_layer_base: u32,
  v_layer_base: u32,
  scale: f32,
  softcap: f32,
  window: u32,      // 0: none; else only the last `window` positions
}

@group(0) @binding(0) var<storage, read> Q: array<f32>;
@group(0) @binding(1) var<storage, read> KC: array<u32>;
@group(0) @binding(2) var<storage, read> VC: array<u32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
@group(0) @binding(4) var<storage, read_write> S: array<f32>;
@group(0) @binding(5) var<storage, read> BATCH: array<u32>;
@group(0) @binding(6) var<uniform> P: Params;

const WG: u32 = 64u;
#include "workgroup_reduce.wgsl"
#include "workgroup_sum_dd.wgsl"
var<workgroup> q16: array<f32, 512>;
const PROB_TILE: u32 = 256u;
const VALUE_SLOTS: u32 = 8u;  // value columns per thread: head sizes up to 8 * WG = 512
var<workgroup> probs: array<f32, PROB_TILE>;

fn half_at(buf_word: u32, lo: bool) -> f32 {
  return half_to_f32(select(buf_word >> 16u, buf_word & 0xffffu, lo));
}

// Element e of the f16 key row starting at word kb.
fn key_at(kb: u32, e: u32) -> f32 {
  return half_at(KC[kb + (e >> 1u)], (e & 1u) == 0u);
}

// K . q16 as the CPU's dot_rows sums it: four 8-lane accumulators over 32-element steps (8-element steps
// after them go to the first), folded (0+1)+(2+3), lanes reduced as 128-bit halves then {0,2}+{1,3}, then
// the tail one by one. Each 32-element step loads its 16 key words before any product needs them.
fn key_dot(kb: u32) -> f32 {
  let n32 = P.hd / 32u * 32u;
  let n8 = P.hd / 8u * 8u;
  var a: array<f32, 32>;  // a[8 * m + l]: accumulator m, lane l
  for (var i = 0u; i < n32; i += 32u) {
    var w: array<u32, 16>;
    for (var k = 0u; k < 16u; k++) {
      w[k] = KC[kb + (i >> 1u) + k];
    }
    for (var e = 0u; e < 32u; e++) {
      a[e] += half_at(w[e >> 1u], (e & 1u) == 0u) * q16[i + e];
    }
  }
  for (var i = n32; i < n8; i += 8u) {
    for (var l = 0u; l < 8u; l++) {
      a[l] += key_at(kb, i + l) * q16[i + l];
    }
  }
  var v: array<f32, 8>;
  for (var l = 0u; l < 8u; l++) {
    v[l] = (a[l] + a[8u + l]) + (a[16u + l] + a[24u + l]);
  }
  var s = ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
  for (var i = n8; i < P.hd; i++) {
    s += key_at(kb, i) * q16[i];
  }
  return s;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let t = wid.y;
  let pos = BATCH[4u * t + 1u];
  let seq = BATCH[4u * t + 2u];
  let hk = h / (P.n_head / P.n_head_kv);
  let p_end = pos + 1u;
  var p_begin = 0u;
  if (P.window > 0u && pos + 1u > P.window) {
    p_begin = pos + 1u - P.window;
  }
  let qb = t * P.n_head * P.hd + h * P.hd;
  for (var i = lid; i < P.hd; i += WG) {
    q16[i] = f16_round(Q[qb + i]);
  }
  workgroupBarrier();
  let kv_row_k = P.n_head_kv * P.hd;
  let kv_row_v = P.n_head_kv * P.hdv;
  let seq_k = P.k_layer_base + (seq * P.n_ctx * kv_row_k + hk * P.hd) / 2u;
  let seq_v = P.v_layer_base + (seq * P.n_ctx * kv_row_v) / 2u;
  let srow = (t * P.n_head + h) * P.n_ctx;

  var mx = -3.0e38;
  for (var p = p_begin + lid; p < p_end; p += WG) {
    var s = key_dot(seq_k + p * kv_row_k / 2u);
    s *= P.scale;
    if (P.softcap > 0.0) {
      s = tanh_accurate(s / P.softcap) * P.softcap;
    }
    S[srow + p] = s;
    mx = max(mx, s);
  }
  mx = workgroup_max(mx, lid);
  var sum = vec2<f32>(0.0, 0.0);
  for (var p = p_begin + lid; p < p_end; p += WG) {
    let e = exp_accurate(S[srow + p] - mx);
    S[srow + p] = e;
    sum = dd_add(sum, e);
  }
  let inv = dd_recip_to_f32(workgroup_sum_dd(sum, lid));
  // The value sum runs over positions in order (the CPU's order), so each output element is one serial
  // chain; what makes it fast is that its loads are not: a tile of probabilities is staged in workgroup
  // memory once, and each chain issues 8 value loads before the 8 adds that use them.
  let ob = t * P.n_head * P.hdv + h * P.hdv;
  var acc: array<f32, VALUE_SLOTS>;
  for (var base = p_begin; base < p_end; base += PROB_TILE) {
    let cnt = min(PROB_TILE, p_end - base);
    storageBarrier();
    workgroupBarrier();
    for (var i = lid; i < cnt; i += WG) {
      probs[i] = f16_round(S[srow + base + i] * inv);
    }
    workgroupBarrier();
    for (var slot = 0u; slot < VALUE_SLOTS; slot++) {
      let d = lid + slot * WG;
      if (d < P.hdv) {
        let col = hk * P.hdv + d;
        let lo = (col & 1u) == 0u;
        var vw = seq_v + (base * kv_row_v + col) / 2u;
        let step = kv_row_v / 2u;
        var a = acc[slot];
        var j = 0u;
        for (; j + 8u <= cnt; j += 8u) {
          var v: array<u32, 8>;
          for (var u = 0u; u < 8u; u++) {
            v[u] = VC[vw + u * step];
          }
          for (var u = 0u; u < 8u; u++) {
            a += probs[j + u] * half_at(v[u], lo);
          }
          vw += 8u * step;
        }
        for (; j < cnt; j++) {
          a += probs[j] * half_at(VC[vw], lo);
          vw += step;
        }
        acc[slot] = a;
      }
    }
  }
  for (var slot = 0u; slot < VALUE_SLOTS; slot++) {
    let d = lid + slot * WG;
    if (d < P.hdv) {
      O[ob + d] = acc[slot];
    }
  }
}
