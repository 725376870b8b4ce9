// Attention for many tokens at once (prefill), in one pass over key/value tiles as FlashAttention does:
// a workgroup takes BQ consecutive tokens of one head, stages BK keys and values at a time in workgroup
// memory and keeps a running max, sum and output per token, so the scores never leave the workgroup.
// The CPU rounds the query to f16 for the key dots; so does this kernel. Unlike the two-pass kernels
// (attention_scores / attention_values) it does not follow the CPU's summation order or round the
// probabilities to f16: the op test holds it to a relative L2 bound instead of bit-equality.
// Tokens of a tile may belong to different sequences: the tile is walked once per run of tokens of one
// sequence (one run in an ordinary prefill), the other tokens masked.
#include "float_formats.wgsl"
#include "exact_float.wgsl"
#include "attention_common.wgsl"

@group(0) @binding(0) var<storage, read> Q: array<f32>;
@group(0) @binding(1) var<storage, read> KC: array<u32>;
@group(0) @binding(2) var<storage, read> VC: array<u32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
@group(0) @binding(4) var<storage, read> BATCH: array<u32>;
@group(0) @binding(5) var<uniform> P: Params;

const WG: u32 = 128u;
const BQ: u32 = {{BQ}}u;       // tokens a workgroup
const BK: u32 = {{BK}}u;       // positions a step
const HD: u32 = {{HD}}u;       // key head size (even)
const HDV: u32 = {{HDV}}u;     // value head size (even)
const TPR: u32 = WG / BQ;      // threads a token
const KPT: u32 = BK / TPR;     // scores a thread computes per step
const PPT: u32 = HDV / 2u / TPR;  // output column pairs a thread owns
// Rows padded by a word so that the threads of a token (reading different rows) hit different banks.
const QS: u32 = HD / 2u + 1u;
const KS: u32 = HD / 2u + 1u;
const VS: u32 = HDV / 2u;
const PS: u32 = BK + 1u;
const NEG: f32 = -3.0e38;  // a masked score

var<workgroup> qs: array<u32, BQ * QS>;  // f16 pairs
var<workgroup> ks: array<u32, BK * KS>;  // f16 pairs, as in the cache
var<workgroup> vs: array<u32, BK * VS>;
var<workgroup> ps: array<f32, BQ * PS>;  // this step's probabilities
var<workgroup> red: array<f32, WG>;

fn token_seq(t: u32) -> u32 {
  return BATCH[4u * t + 2u];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y;
  let t0 = wid.x * BQ;
  let rows = min(BQ, P.n_tok - t0);
  let hk = h / (P.n_head / P.n_head_kv);
  let kv_row_k = P.n_head_kv * P.hd;
  let kv_row_v = P.n_head_kv * P.hdv;

  // The tile's queries, rounded to f16 as the CPU rounds them.
  for (var i = lid; i < BQ * (HD / 2u); i += WG) {
    let r = i / (HD / 2u);
    let w = i % (HD / 2u);
    var word = 0u;
    if (r < rows) {
      let qb = (t0 + r) * P.n_head * P.hd + h * P.hd + 2u * w;
      word = f16_bits(Q[qb]) | (f16_bits(Q[qb + 1u]) << 16u);
    }
    qs[r * QS + w] = word;
  }

  let r = lid / TPR;  // this thread's token in the tile
  let j = lid % TPR;  // and its lane among the token's threads
  let t = t0 + r;
  var range = vec2<u32>(0u, 0u);
  if (r < rows) {
    range = attended_range(t);
  }
  var m = NEG;
  var l = 0.0;
  var acc: array<vec2<f32>, PPT>;
  for (var c = 0u; c < PPT; c++) {
    acc[c] = vec2<f32>(0.0, 0.0);
  }

  var g0 = 0u;
  loop {
    if (g0 >= rows) {
      break;
    }
    // The run of tokens [g0, g1) of one sequence, and the positions any of them attends to.
    let seq = token_seq(t0 + g0);
    var g1 = g0;
    var k_begin = 0xffffffffu;
    var k_end = 0u;
    loop {
      if (g1 >= rows || token_seq(t0 + g1) != seq) {
        break;
      }
      let rg = attended_range(t0 + g1);
      k_begin = min(k_begin, rg.x);
      k_end = max(k_end, rg.y);
      g1++;
    }
    let in_run = r >= g0 && r < g1;
    let seq_k = P.k_layer_base + (seq * P.n_ctx * kv_row_k + hk * P.hd) / 2u;
    let seq_v = P.v_layer_base + (seq * P.n_ctx * kv_row_v + hk * P.hdv) / 2u;

    for (var kb = k_begin; kb < k_end; kb += BK) {
      workgroupBarrier();  // the previous step (or the query load) is done with ks, vs and ps
      for (var i = lid; i < BK * (HD / 2u); i += WG) {
        let key = i / (HD / 2u);
        let w = i % (HD / 2u);
        var word = 0u;
        if (kb + key < k_end) {
          word = KC[seq_k + (kb + key) * kv_row_k / 2u + w];
        }
        ks[key * KS + w] = word;
      }
      for (var i = lid; i < BK * (HDV / 2u); i += WG) {
        let key = i / (HDV / 2u);
        let w = i % (HDV / 2u);
        var word = 0u;
        if (kb + key < k_end) {
          word = VC[seq_v + (kb + key) * kv_row_v / 2u + w];
        }
        vs[key * VS + w] = word;
      }
      workgroupBarrier();

      // Scores of keys j, j + TPR, ... for this thread's token.
      // Zeroed by hand: a declaration inside a loop is not re-zeroed on every trip by SwiftShader's compiler.
      var s: array<f32, KPT>;
      for (var i = 0u; i < KPT; i++) {
        s[i] = 0.0;
      }
      for (var w = 0u; w < HD / 2u; w++) {
        let q = unpack2x16float(qs[r * QS + w]);
        for (var i = 0u; i < KPT; i++) {
          s[i] += dot(q, unpack2x16float(ks[(j + i * TPR) * KS + w]));
        }
      }
      var smax = NEG;
      for (var i = 0u; i < KPT; i++) {
        let p = kb + j + i * TPR;
        var v = s[i] * P.scale;
        if (P.softcap > 0.0) {
          v = tanh_accurate(v / P.softcap) * P.softcap;
        }
        if (!in_run || p < range.x || p >= range.y) {
          v = NEG;
        }
        s[i] = v;
        smax = max(smax, v);
      }
      red[lid] = smax;
      workgroupBarrier();
      var m_new = m;
      for (var i = 0u; i < TPR; i++) {
        m_new = max(m_new, red[r * TPR + i]);
      }
      let alpha = exp(m - m_new);  // 0 the first time, 1 while nothing is attended yet
      var psum = 0.0;
      for (var i = 0u; i < KPT; i++) {
        let p = select(0.0, exp(s[i] - m_new), s[i] > NEG);
        ps[r * PS + j + i * TPR] = p;
        psum += p;
      }
      workgroupBarrier();  // every thread has read red for the max
      red[lid] = psum;
      workgroupBarrier();
      var row_sum = 0.0;
      for (var i = 0u; i < TPR; i++) {
        row_sum += red[r * TPR + i];
      }
      l = l * alpha + row_sum;
      m = m_new;

      for (var c = 0u; c < PPT; c++) {
        acc[c] *= alpha;
      }
      for (var k = 0u; k < BK; k++) {
        let p = ps[r * PS + k];
        for (var c = 0u; c < PPT; c++) {
          acc[c] += p * unpack2x16float(vs[k * VS + j + c * TPR]);
        }
      }
    }
    g0 = g1;
  }

  if (r < rows) {
    let inv = 1.0 / l;
    let ob = t * P.n_head * P.hdv + h * P.hdv;
    for (var c = 0u; c < PPT; c++) {
      let d = 2u * (j + c * TPR);
      O[ob + d] = round_output(acc[c].x * inv, P.round_out);
      O[ob + d + 1u] = round_output(acc[c].y * inv, P.round_out);
    }
  }
}
