// Y = W X for quantized weights and many tokens (prefill) on int8 dot products, in llama.cpp's order:
// per 32-value sub-block an exact int32 dot, summed with the integer sub-block scales (and mins) over a
// super-block, then one float step per super-block. Close to the CPU backend (float rounding only), not
// bit-equal: matmul_k.wgsl / matmul_q0.wgsl keep the CPU's order (HEARTH_PREFILL_MATMUL=exact).
// Tile: 16 RT rows x 64 tokens a workgroup, RT x 4 outputs a thread (rows ty + 16 i, tokens tx + 16 j). K
// goes in steps of SUBS 32-value sub-blocks; both operands are staged in workgroup memory as signed bytes,
// so a weight word feeds 64 tokens and an activation word 16 RT rows, with one dot4I8Packed per 4 values.
// Specialized by {{STAGE}} (matmul_int8_q4_k / q5_k / q6_k / q8_0 / q4_0: stage_sub, SUPER, ACT_K, MINS),
// RT, SUBS, PREFETCH, FLOAT_MINS and HALVES.
#include "float_formats.wgsl"

#include "matvec_bindings.wgsl"

fn capped(y: f32) -> f32 {
  return tanh(y / P.softcap) * P.softcap;
}

#include "weight_bytes.wgsl"

// One weight sub-block as staged: 32 signed bytes, the integer scales of its two 16-value halves and its
// integer min (K-quants: the output takes -min * the activation sum), and its super-block's d and dmin.
struct Staged {
  q: array<u32, 8>,
  sc: vec4<i32>,
  f: vec2<f32>,
}

// Per byte, q - off for unsigned 0 <= q < 2 * off (off a power of two) as a signed byte.
fn offset_bytes(q: u32, off: u32) -> u32 {
  let top = (q / off) & 0x01010101u;  // bytes with q >= off
  return q ^ (off * 0x01010101u) ^ ((top ^ 0x01010101u) * ((0x100u - 2u * off) & 0xffu));
}

#include "{{STAGE}}.wgsl"

const WG: u32 = 256u;
const RT: u32 = {{RT}}u;      // rows per thread
const BM: u32 = 16u * RT;
const BN: u32 = 64u;
const SUBS: u32 = {{SUBS}}u;  // sub-blocks per step (2 or 4)
const PREFETCH: bool = {{PREFETCH}};  // the next step's loads before this step's sums
// K-quant mins: dmin m times the activation's scale times its sum, one fused multiply-add per output and
// sub-block (both products formed once, when staged). Else as llama.cpp: an int32 sum of m times the
// activation sums per super-block, which costs an accumulator per output (RT x 4 more registers).
const FLOAT_MINS: bool = {{FLOAT_MINS}};
// Each sub-block as its two 16-value halves: half the registers for the operands read from workgroup memory
// (4 tokens' and one row's 16 bytes at a time), at one more integer multiply-add per output and sub-block.
const HALVES: bool = {{HALVES}};
// vec4 words per staged row or token: SUBS sub-blocks of two, and one more so that 8 neighbouring tokens
// (a quarter warp's 128-bit loads) fall on distinct banks.
const RS: u32 = 2u * SUBS + 1u;

var<workgroup> wq: array<vec4<u32>, BM * RS>;
var<workgroup> xq: array<vec4<u32>, BN * RS>;
var<workgroup> wsc: array<vec4<i32>, BM * SUBS>;
var<workgroup> wf: array<vec2<f32>, BM * SUBS>;
var<workgroup> xd: array<f32, BN * SUBS>;    // activation scale
// For the mins: the sum of the activation's 32 quants (i32), or (FLOAT_MINS) the scale times it (f32), as
// bits (an integer stays out of float registers, where a denormal pattern could be flushed).
var<workgroup> xs: array<u32, BN * SUBS>;

// Activation sub-block g of token t, in a Staged: its words, the sum of its quants (sc.x) and its scale
// (f.x). Q8_K: 65 words per 256 values (scale, 64 words); Q8_0: 9 words per 32 (scale, 8 words).
fn fetch_act(t: u32, g: u32) -> Staged {
  var st: Staged;
  if (t < P.n_tok && g < P.cols / 32u) {
    var base = t * P.x_stride + g * 9u;
    if (ACT_K) {
      base = t * P.x_stride + (g / 8u) * 65u + (g % 8u) * 8u;
    }
    st.f.x = bitcast<f32>(X[select(base, t * P.x_stride + (g / 8u) * 65u, ACT_K)]);
    for (var u = 0u; u < 8u; u++) {
      st.q[u] = X[base + 1u + u];
      if (MINS) {
        st.sc.x += byte_sum(st.q[u]);
      }
    }
  }
  return st;
}

// Staging item i of the step at sub-block g0: items (token, sub-block) first, then (row, sub-block), so a
// warp takes only one kind.
fn fetch_item(i: u32, first_row: u32, t0: u32, g0: u32) -> Staged {
  if (i < BN * SUBS) {
    return fetch_act(t0 + i / SUBS, g0 + i % SUBS);
  }
  let k = i - BN * SUBS;
  let row = first_row + k / SUBS;
  var st: Staged;
  if (row < P.rows && g0 + k % SUBS < P.cols / 32u) {
    st = stage_sub(row * P.row_bytes, g0 + k % SUBS);
  }
  return st;
}

fn store_item(i: u32, st: Staged) {
  let a = vec4<u32>(st.q[0], st.q[1], st.q[2], st.q[3]);
  let b = vec4<u32>(st.q[4], st.q[5], st.q[6], st.q[7]);
  if (i < BN * SUBS) {
    let at = (i / SUBS) * RS + 2u * (i % SUBS);
    xq[at] = a;
    xq[at + 1u] = b;
    xd[i] = st.f.x;
    xs[i] = select(bitcast<u32>(st.sc.x), bitcast<u32>(st.f.x * f32(st.sc.x)), FLOAT_MINS);
  } else {
    let k = i - BN * SUBS;
    let at = (k / SUBS) * RS + 2u * (k % SUBS);
    wq[at] = a;
    wq[at + 1u] = b;
    wsc[k] = st.sc;
    // FLOAT_MINS: dmin times this sub-block's min in place of dmin.
    wf[k] = select(st.f, vec2<f32>(st.f.x, st.f.y * f32(st.sc.z)), FLOAT_MINS && MINS);
  }
}

// Staging items per thread.
const ITEMS: u32 = ((BN + BM) * SUBS + WG - 1u) / WG;

// The 32-value dot in one chain (one integer scale per 32 values), and a 16-value half's (a scale per half:
// Q6_K, and the HALVES form).
fn dot32(a0: vec4<u32>, a1: vec4<u32>, b0: vec4<u32>, b1: vec4<u32>) -> i32 {
  return dot4I8Packed(a0.x, b0.x) + dot4I8Packed(a0.y, b0.y) + dot4I8Packed(a0.z, b0.z) + dot4I8Packed(a0.w, b0.w) +
         dot4I8Packed(a1.x, b1.x) + dot4I8Packed(a1.y, b1.y) + dot4I8Packed(a1.z, b1.z) + dot4I8Packed(a1.w, b1.w);
}

fn dot16(a: vec4<u32>, b: vec4<u32>) -> i32 {
  return dot4I8Packed(a.x, b.x) + dot4I8Packed(a.y, b.y) + dot4I8Packed(a.z, b.z) + dot4I8Packed(a.w, b.w);
}

// A sub-block's integer dot times its integer scale(s): one scale per 32 values, one per 16 (HALF_SCALES),
// or none (SUPER 1: the float scales come in float_step).
fn scaled_dot(a0: vec4<u32>, a1: vec4<u32>, b0: vec4<u32>, b1: vec4<u32>, sc: vec4<i32>) -> i32 {
  if (SUPER == 1u) {
    return dot32(a0, a1, b0, b1);
  }
  if (HALF_SCALES) {
    return sc.x * dot16(a0, b0) + sc.y * dot16(a1, b1);
  }
  return sc.x * dot32(a0, a1, b0, b1);
}

// One output's running sums: the float result, the super-block's integer sum, and (int32 mins) its mins.
struct OutputSums {
  acc: f32,
  isum: i32,
  msum: i32,
}

// One output's float step after a sub-block's scaled dot went into isum: the sub-block's mins, and at the
// end of a super-block (every sub-block for SUPER 1) the integer sum times the weight and activation scales.
fn float_step(o: OutputSums, f: vec2<f32>, min_q: i32, xsum: u32, xscale: f32, last: bool) -> OutputSums {
  var r = o;
  if (MINS && FLOAT_MINS) {
    r.acc -= f.y * bitcast<f32>(xsum);
  } else if (MINS) {
    r.msum += min_q * bitcast<i32>(xsum);
  }
  if (last) {
    r.acc += f32(r.isum) * (f.x * xscale);
    r.isum = 0i;
    if (MINS && !FLOAT_MINS) {
      r.acc -= f32(r.msum) * (f.y * xscale);
      r.msum = 0i;
    }
  }
  return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first_row = (wid.x + wid.y * P.grid_x) * BM;
  if (first_row >= P.rows) {
    return;
  }
  let t0 = wid.z * BN;
  let tx = lid % 16u;
  let ty = lid / 16u;
  let n_sub = P.cols / 32u;
  var acc: array<f32, RT * 4u>;
  var isum: array<i32, RT * 4u>;
  var msum: array<i32, RT * 4u>;
  // The next step's global loads are issued before this step's sums, which hide their latency.
  var next: array<Staged, ITEMS>;
  for (var n = 0u; n < ITEMS; n++) {
    let i = lid + n * WG;
    if (i < (BN + BM) * SUBS) {
      next[n] = fetch_item(i, first_row, t0, 0u);
    }
  }
  for (var g0 = 0u; g0 < n_sub; g0 += SUBS) {
    workgroupBarrier();
    for (var n = 0u; n < ITEMS; n++) {
      let i = lid + n * WG;
      if (i < (BN + BM) * SUBS) {
        store_item(i, next[n]);
      }
    }
    workgroupBarrier();
    if (PREFETCH && g0 + SUBS < n_sub) {
      for (var n = 0u; n < ITEMS; n++) {
        let i = lid + n * WG;
        if (i < (BN + BM) * SUBS) {
          next[n] = fetch_item(i, first_row, t0, g0 + SUBS);
        }
      }
    }
    for (var s = 0u; s < SUBS; s++) {
      let last = SUPER == 1u || (g0 + s) % SUPER == SUPER - 1u;
      var xsum: vec4<u32>;
      var xscale: vec4<f32>;
      var x: array<vec4<u32>, 8>;  // 4 tokens' 32 bytes (HALVES: read a half at a time below instead)
      for (var j = 0u; j < 4u; j++) {
        let t = tx + 16u * j;
        xsum[j] = xs[t * SUBS + s];
        xscale[j] = xd[t * SUBS + s];
        if (!HALVES) {
          x[2u * j] = xq[t * RS + 2u * s];
          x[2u * j + 1u] = xq[t * RS + 2u * s + 1u];
        }
      }
      if (HALVES) {
        // Both halves' integer dots into isum first (SUPER 1: the bare dot).
        for (var h = 0u; h < 2u; h++) {
          var xh: array<vec4<u32>, 4>;
          for (var j = 0u; j < 4u; j++) {
            xh[j] = xq[(tx + 16u * j) * RS + 2u * s + h];
          }
          for (var i = 0u; i < RT; i++) {
            let r = ty + 16u * i;
            let a = wq[r * RS + 2u * s + h];
            let sc = wsc[r * SUBS + s];
            let sh = select(sc.x, sc.y, h == 1u);
            for (var j = 0u; j < 4u; j++) {
              isum[4u * i + j] += select(sh, 1i, SUPER == 1u) * dot16(a, xh[j]);
            }
          }
        }
      }
      for (var i = 0u; i < RT; i++) {
        let r = ty + 16u * i;
        let sc = wsc[r * SUBS + s];
        let f = wf[r * SUBS + s];
        var a0: vec4<u32>;
        var a1: vec4<u32>;
        if (!HALVES) {
          a0 = wq[r * RS + 2u * s];
          a1 = wq[r * RS + 2u * s + 1u];
        }
        for (var j = 0u; j < 4u; j++) {
          let o = 4u * i + j;
          if (!HALVES) {
            isum[o] += scaled_dot(a0, a1, x[2u * j], x[2u * j + 1u], sc);
          }
          let u = float_step(OutputSums(acc[o], isum[o], msum[o]), f, sc.z, xsum[j], xscale[j], last);
          acc[o] = u.acc;
          isum[o] = u.isum;
          msum[o] = u.msum;
        }
      }
    }
    if (!PREFETCH && g0 + SUBS < n_sub) {
      workgroupBarrier();
      for (var n = 0u; n < ITEMS; n++) {
        let i = lid + n * WG;
        if (i < (BN + BM) * SUBS) {
          next[n] = fetch_item(i, first_row, t0, g0 + SUBS);
        }
      }
    }
  }
  for (var i = 0u; i < RT; i++) {
    let row = first_row + ty + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let tok = t0 + tx + 16u * j;
      if (row < P.rows && tok < P.n_tok) {
        store_output(tok, P.row_base + row, acc[4u * i + j]);
      }
    }
  }
}
