// The key dot both attention passes use (attention_scores.wgsl; attention_values.wgsl when it takes the scores
// itself, for decode): K . q16 over an f16 key row, in the CPU backend's order. The including kernel
// declares `Q: array<f32>` (the queries), `KC: array<u32>` (the key cache), `P`, `BATCH`, and the constants WG
// (its workgroup size) and HD (the key head size, fixed per pipeline so that key_dot's loops unroll fully).
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

// Head h of token t's query, rounded to f16 into q16, for every thread of the workgroup.
fn load_query(t: u32, h: u32, lid: u32) {
  let qb = t * P.n_head * P.hd + h * P.hd;
  for (var i = lid; i < HD; i += WG) {
    q16[i] = f16_round(Q[qb + i]);
  }
  workgroupBarrier();
}

// The first word of the key rows head h of token t reads (GQA maps head h to key head h / group).
fn key_rows_base(t: u32, h: u32) -> u32 {
  let seq = BATCH[4u * t + 2u];
  let hk = h / (P.n_head / P.n_head_kv);
  return P.k_layer_base + (seq * P.n_ctx * P.n_head_kv * P.hd + hk * P.hd) / 2u;
}

// The score of position p: the key dot, times the scale, then the soft-cap.
fn position_score(rows_base: u32, p: u32) -> f32 {
  var s = key_dot(rows_base + p * (P.n_head_kv * P.hd) / 2u);
  s *= P.scale;
  if (P.softcap > 0.0) {
    s = tanh_accurate(s / P.softcap) * P.softcap;
  }
  return s;
}
