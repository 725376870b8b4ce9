// Attention pass 2 of 2: softmax of a (token, head)'s scores and the probability-weighted sum of its
// values, as the CPU backend (Transformer::attention) computes them: exp as libm's expf, the sum of exps
// in double (double-length here), probabilities rounded to f16, and the value sum in chunks of CHUNK
// positions counted from the first attended one: each chunk summed in order into a zeroed partial, the
// partials added to the output in chunk order (f16 x f16 products are exact, so multiply-and-add equals
// the CPU's FMA whether or not it is fused).
// Workgroup (x, h, t) owns PAIRS column pairs of the output (x-th block) and sums LANES chunks at once:
// thread (lane, pair) sums chunk `lane` of the round for its two columns, then the first lane adds the
// round's partials in order. Every workgroup of a (token, head) redoes the softmax's max and sum: that is
// cheaper than another dispatch.
#include "float_formats.wgsl"
#include "exact_float.wgsl"
#include "attention_common.wgsl"

@group(0) @binding(0) var<storage, read> VC: array<u32>;
@group(0) @binding(1) var<storage, read_write> O: array<f32>;
@group(0) @binding(2) var<storage, read> S: array<f32>;
@group(0) @binding(3) var<storage, read> BATCH: array<u32>;
@group(0) @binding(4) var<uniform> P: Params;

const WG: u32 = 256u;
const PAIRS: u32 = {{PAIRS}}u;
const LANES: u32 = WG / PAIRS;
const CHUNK: u32 = {{CHUNK}}u;
#include "workgroup_reduce.wgsl"
#include "workgroup_sum_dd.wgsl"
var<workgroup> probs: array<f32, LANES * CHUNK>;
var<workgroup> partial: array<vec2<f32>, WG>;  // [lane * PAIRS + pair]

fn halves(w: u32) -> vec2<f32> {
  return vec2<f32>(half_to_f32(w & 0xffffu), half_to_f32(w >> 16u));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y;
  let t = wid.z;
  let range = attended_range(t);
  let p_begin = range.x;
  let p_end = range.y;
  let srow = (t * P.n_head + h) * P.n_ctx;

  var mx = -3.0e38;
  for (var p = p_begin + lid; p < p_end; p += WG) {
    mx = max(mx, S[srow + p]);
  }
  mx = workgroup_max(mx, lid);
  var sum = vec2<f32>(0.0, 0.0);
  for (var p = p_begin + lid; p < p_end; p += WG) {
    sum = dd_add(sum, exp_accurate(S[srow + p] - mx));
  }
  let inv = dd_recip_to_f32(workgroup_sum_dd(sum, lid));

  let pair = lid % PAIRS;
  let lane = lid / PAIRS;
  let d = (wid.x * PAIRS + pair) * 2u;  // this thread's first output column
  let has_columns = d < P.hdv;
  let seq = BATCH[4u * t + 2u];
  let hk = h / (P.n_head / P.n_head_kv);
  let kv_row_v = P.n_head_kv * P.hdv;
  let step = kv_row_v / 2u;  // words from one position's value row to the next
  let col_word = P.v_layer_base + (seq * P.n_ctx * kv_row_v + hk * P.hdv + d) / 2u;
  var out = vec2<f32>(0.0, 0.0);
  for (var base = p_begin; base < p_end; base += LANES * CHUNK) {
    for (var i = lid; i < LANES * CHUNK; i += WG) {
      let p = base + i;
      var w = 0.0;
      if (p < p_end) {
        w = f16_round(exp_accurate(S[srow + p] - mx) * inv);
      }
      probs[i] = w;
    }
    workgroupBarrier();
    let c0 = base + lane * CHUNK;
    var a = vec2<f32>(0.0, 0.0);
    if (has_columns && c0 < p_end) {
      let cnt = min(CHUNK, p_end - c0);
      var vw = col_word + c0 * step;
      var j = 0u;
      // Eight value loads in flight before the adds that use them.
      for (; j + 8u <= cnt; j += 8u) {
        var v: array<u32, 8>;
        for (var u = 0u; u < 8u; u++) {
          v[u] = VC[vw + u * step];
        }
        for (var u = 0u; u < 8u; u++) {
          a += probs[lane * CHUNK + j + u] * halves(v[u]);
        }
        vw += 8u * step;
      }
      for (; j < cnt; j++) {
        a += probs[lane * CHUNK + j] * halves(VC[vw]);
        vw += step;
      }
    }
    partial[lid] = a;
    workgroupBarrier();
    if (lane == 0u) {
      let chunks = min(LANES, (p_end - base + CHUNK - 1u) / CHUNK);
      for (var k = 0u; k < chunks; k++) {
        out += partial[k * PAIRS + pair];
      }
    }
    workgroupBarrier();  // the next round overwrites probs and partial
  }
  if (lane == 0u && has_columns) {
    let ob = t * P.n_head * P.hdv + h * P.hdv + d;
    O[ob] = round_output(out.x, P.round_out);
    O[ob + 1u] = round_output(out.y, P.round_out);
  }
}
