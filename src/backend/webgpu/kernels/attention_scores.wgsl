// Attention pass 1 of 2: the score of every attended position for each (token, head), into a row of S
// ((t * n_head + h) * n_ctx + p), as the CPU backend (Transformer::attention) computes it: the query
// rounded to f16, the key dot in the AVX2 dot_rows order, times the scale, then the soft-cap.
// One thread per position: workgroups (x, h, t) take tiles of WG positions, x, x + tiles_x, ... so that a
// single token's attention spreads over many workgroups. GQA maps head h to key head h / group.
#include "float_formats.wgsl"
#include "exact_float.wgsl"
#include "attention_common.wgsl"

@group(0) @binding(0) var<storage, read> Q: array<f32>;
@group(0) @binding(1) var<storage, read> KC: array<u32>;
@group(0) @binding(2) var<storage, read_write> S: array<f32>;
@group(0) @binding(3) var<storage, read> BATCH: array<u32>;
@group(0) @binding(4) var<uniform> P: Params;

const WG: u32 = 64u;
const HD: u32 = {{HD}}u;  // the key head size, fixed per pipeline so that key_dot's loops unroll fully
var<workgroup> q16: array<f32, HD>;

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
  const n32 = HD / 32u * 32u;
  const n8 = HD / 8u * 8u;
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
  for (var i = n8; i < HD; i++) {
    s += key_at(kb, i) * q16[i];
  }
  return s;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y;
  let t = wid.z;
  let range = attended_range(t);
  if (range.x + wid.x * WG >= range.y) {
    return;  // no position for this workgroup (the whole workgroup leaves, so no barrier is skipped)
  }
  let qb = t * P.n_head * P.hd + h * P.hd;
  for (var i = lid; i < HD; i += WG) {
    q16[i] = f16_round(Q[qb + i]);
  }
  workgroupBarrier();
  let seq = BATCH[4u * t + 2u];
  let hk = h / (P.n_head / P.n_head_kv);
  let kv_row_k = P.n_head_kv * P.hd;
  let seq_k = P.k_layer_base + (seq * P.n_ctx * kv_row_k + hk * P.hd) / 2u;
  let srow = (t * P.n_head + h) * P.n_ctx;
  for (var p = range.x + wid.x * WG + lid; p < range.y; p += P.tiles_x * WG) {
    var s = key_dot(seq_k + p * kv_row_k / 2u);
    s *= P.scale;
    if (P.softcap > 0.0) {
      s = tanh_accurate(s / P.softcap) * P.softcap;
    }
    S[srow + p] = s;
  }
}
