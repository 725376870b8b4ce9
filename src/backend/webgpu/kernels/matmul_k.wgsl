// Y = W X for Q4_K / Q5_K / Q6_K weights and many tokens (prefill), bit-equal to the CPU backend as
// matvec_k.wgsl is: every output (row, token) takes exactly its float operations in its order (per
// super-block, eight exact int32 lanes folded as fma(float(lane), d_x * d, acc_l), Q4_K/Q5_K's mins in
// four more chains, then hsum256's tree). What changes is the sharing: a workgroup stages TG * T tokens'
// Q8_K super-block (and its 16-value group sums) in workgroup memory per step, and each thread keeps one
// lane of R rows' weights in registers for T tokens, so a weight word feeds T tokens and a staged
// activation word R rows. Thread = (row group, token group, lane); the lanes meet in the final tree.
// Specialized by {{LANE_FILE}} (matmul_k_q4_k / q5_k / q6_k: k_lane, k_d, k_dmin, KQ_MINS), R, T, TG, FMA.
#include "float_formats.wgsl"
#include "exact_float.wgsl"

#include "matvec_bindings.wgsl"

// > 0 soft-cap (gemma 2 logits)
fn capped(y: f32) -> f32 {
  return tanh_accurate(y / P.softcap) * P.softcap;
}

#include "weight_bytes.wgsl"

// One float lane `l` of one row's super-block: q[s] is the packed quant word that meets word l of the
// activation's 32-value chunk s, sc[s] its scale; g multiplies the two group sums k_group_sums picks.
struct KLane {
  q: array<u32, 8>,
  sc: array<i32, 8>,
  g: vec2<i32>,
}

#include "{{LANE_FILE}}.wgsl"
#include "chain_fma.wgsl"

const WG: u32 = 256u;
const LANES: u32 = 8u;
const R: u32 = {{R}}u;    // rows per thread
const T: u32 = {{T}}u;    // tokens per thread
const TG: u32 = {{TG}}u;  // token groups per workgroup
const RG: u32 = WG / LANES / TG;
const TILE_ROWS: u32 = RG * R;
const TILE_TOK: u32 = TG * T;
// A staged token: the Q8_K scale, 64 quant words, then the sums of the 16 groups of 16 values.
const XW: u32 = 81u;
const RED: u32 = 4u;  // outputs per thread in each pass of the final tree
// The final tree reuses the staging words for RED lane values (and mins) per thread.
var<workgroup> xs: array<u32, TILE_TOK * XW>;
const_assert TILE_TOK * XW >= 2u * RED * WG;
const_assert (R * T) % RED == 0u;

fn stage(c: u32, t0: u32, lid: u32) {
  for (var i = lid; i < TILE_TOK * 65u; i += WG) {
    let j = i / 65u;
    var v = 0u;
    if (t0 + j < P.n_tok) {
      v = X[(t0 + j) * P.x_stride + c * 65u + i % 65u];
    }
    xs[j * XW + i % 65u] = v;
  }
  for (var i = lid; i < TILE_TOK * 16u; i += WG) {
    let j = i / 16u;
    var s = 0i;
    if (t0 + j < P.n_tok) {
      let w0 = (t0 + j) * P.x_stride + c * 65u + 1u + 4u * (i % 16u);
      s = byte_sum(X[w0]) + byte_sum(X[w0 + 1u]) + byte_sum(X[w0 + 2u]) + byte_sum(X[w0 + 3u]);
    }
    xs[j * XW + 65u + i % 16u] = bitcast<u32>(s);
  }
}

fn red_at(i: u32) -> f32 {
  return bitcast<f32>(xs[i]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first_row = (wid.x + wid.y * P.grid_x) * TILE_ROWS;
  if (first_row >= P.rows) {
    return;
  }
  let lane = lid % LANES;
  let grp = lid / LANES;
  let t0 = wid.z * TILE_TOK;
  let row0 = first_row + (grp / TG) * R;
  let xo0 = (grp % TG) * T * XW;
  let has_work = row0 < P.rows && t0 + (grp % TG) * T < P.n_tok;
  let gb = k_group_base(lane);
  let n_blocks = P.cols / 256u;
  var acc: array<f32, R * T>;
  var acc_m: array<f32, R * T>;
  for (var c = 0u; c < n_blocks; c++) {
    workgroupBarrier();
    stage(c, t0, lid);
    workgroupBarrier();
    if (has_work) {
      var wl: array<KLane, R>;
      var wd: array<vec2<f32>, R>;  // d, dmin
      for (var r = 0u; r < R; r++) {
        let b = min(row0 + r, P.rows - 1u) * P.row_bytes + c * BLOCK_BYTES;
        wl[r] = k_lane(b, lane);
        wd[r] = vec2<f32>(k_d(b), k_dmin(b));
      }
      for (var t = 0u; t < T; t++) {
        let xo = xo0 + t * XW;
        var xw: array<u32, 8>;
        for (var s = 0u; s < 8u; s++) {
          xw[s] = xs[xo + 1u + 8u * s + lane];
        }
        let xd = bitcast<f32>(xs[xo]);
        let gs = k_group_sums(lane, vec4<i32>(bitcast<i32>(xs[xo + 65u + gb]), bitcast<i32>(xs[xo + 66u + gb]),
                                              bitcast<i32>(xs[xo + 67u + gb]), bitcast<i32>(xs[xo + 68u + gb])));
        for (var r = 0u; r < R; r++) {
          var isum = 0i;
          for (var s = 0u; s < 8u; s++) {
            isum += wl[r].sc[s] * dot4I8Packed(wl[r].q[s], xw[s]);
          }
          let gterm = wl[r].g.x * gs.x + wl[r].g.y * gs.y;
          let i = r * T + t;
          if (KQ_MINS) {
            acc[i] = chain_fma(f32(isum), xd * wd[r].x, acc[i]);
            acc_m[i] = chain_fma(f32(gterm), -xd * wd[r].y, acc_m[i]);
          } else {
            acc[i] = chain_fma(f32(isum + gterm), xd * wd[r].x, acc[i]);
          }
        }
      }
    }
  }
  // hsum256 of the 8 lanes: (a0+a4 + a2+a6) + (a1+a5 + a3+a7); the mins' 4 lanes: (m0+m2) + (m1+m3).
  // RED outputs per thread per pass; thread j * (WG / LANES) + group sums output j of that group.
  for (var i0 = 0u; i0 < R * T; i0 += RED) {
    workgroupBarrier();
    for (var j = 0u; j < RED; j++) {
      xs[j * WG + lid] = bitcast<u32>(acc[i0 + j]);
      if (KQ_MINS) {
        xs[(RED + j) * WG + lid] = bitcast<u32>(acc_m[i0 + j]);
      }
    }
    workgroupBarrier();
    if (lid < RED * (WG / LANES)) {
      let j = lid / (WG / LANES);
      let g = lid % (WG / LANES);
      let a = j * WG + g * LANES;
      var y = ((red_at(a) + red_at(a + 4u)) + (red_at(a + 2u) + red_at(a + 6u))) +
              ((red_at(a + 1u) + red_at(a + 5u)) + (red_at(a + 3u) + red_at(a + 7u)));
      if (KQ_MINS) {
        let m = a + RED * WG;
        y = y + ((red_at(m) + red_at(m + 2u)) + (red_at(m + 1u) + red_at(m + 3u)));
      }
      let row = first_row + (g / TG) * R + (i0 + j) / T;
      let tok = t0 + (g % TG) * T + (i0 + j) % T;
      if (row < P.rows && tok < P.n_tok) {
        store_output(tok, P.row_base + row, y);
      }
    }
  }
}
