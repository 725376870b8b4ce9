// Y = W X for Q8_0 / Q4_0 weights and many tokens (prefill), bit-equal to the CPU backend as
// matvec_q0.wgsl is: every output (row, token) takes exactly its float operations in its order:
//  LANES = 8: eight chains per output, lane k folding fma(float(idot of values 4k..4k+3), d_w * d_x, acc)
//             block after block, then hsum256's tree (a0+a4 + a2+a6) + (a1+a5 + a3+a7);
//  LANES = 1: one chain per output over whole-block integer dots (llama.cpp's repacked Q4_0).
// A workgroup stages TG * T tokens' Q8_0 blocks (KB per step) in workgroup memory, and each thread keeps
// its words of R rows' blocks in registers for T tokens: a weight word feeds T tokens, a staged activation
// word R rows. Thread = (row group, token group, lane).
// Specialized by {{BLOCK_BYTES}} and {{Q4}} (34 / false: Q8_0, 18 / true: Q4_0), LANES, R, T, TG and FMA.
#include "float_formats.wgsl"
#include "exact_float.wgsl"

#include "matvec_bindings.wgsl"

// > 0 soft-cap (gemma 2 logits)
fn capped(y: f32) -> f32 {
  return tanh_accurate(y / P.softcap) * P.softcap;
}

#include "weight_bytes.wgsl"
#include "chain_fma.wgsl"

const BLOCK_BYTES: u32 = {{BLOCK_BYTES}}u;
const Q4: bool = {{Q4}};
const WG: u32 = 256u;
const LANES: u32 = {{LANES}}u;
const WPL: u32 = 8u / LANES;  // quant words of a block per lane
const R: u32 = {{R}}u;        // rows per thread
const T: u32 = {{T}}u;        // tokens per thread
const TG: u32 = {{TG}}u;      // token groups per workgroup
const RG: u32 = WG / LANES / TG;
const TILE_ROWS: u32 = RG * R;
const TILE_TOK: u32 = TG * T;
const KB: u32 = 8u;            // blocks per step
// A staged token: KB blocks of (scale, 8 quant words); the extra word staggers tokens across banks.
const XW: u32 = KB * 9u + 1u;
const RED: u32 = 4u;  // outputs per thread in each pass of the final tree (LANES = 8)
var<workgroup> xs: array<u32, TILE_TOK * XW>;
const_assert TILE_TOK * XW >= RED * WG;
const_assert (R * T) % RED == 0u;

// Quant word k of the block at byte b as unsigned (Q4_0: nibbles, the -8 comes from the activation sum)
// or signed bytes.
fn q0_word(b: u32, k: u32) -> u32 {
  if (Q4) {
    return (w_u32(b + 2u + 4u * (k & 3u)) >> (4u * (k >> 2u))) & 0x0f0f0f0fu;
  }
  return w_u32(b + 2u + 4u * k);
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
  let n_blocks = P.cols / 32u;
  var acc: array<f32, R * T>;
  for (var c0 = 0u; c0 < n_blocks; c0 += KB) {
    let nb = min(KB, n_blocks - c0);
    workgroupBarrier();
    for (var i = lid; i < TILE_TOK * KB * 9u; i += WG) {
      let j = i / (KB * 9u);
      let w = i % (KB * 9u);
      var v = 0u;
      if (t0 + j < P.n_tok && w < nb * 9u) {
        v = X[(t0 + j) * P.x_stride + c0 * 9u + w];
      }
      xs[j * XW + w] = v;
    }
    workgroupBarrier();
    if (has_work) {
      for (var k = 0u; k < nb; k++) {
        var wq: array<array<u32, WPL>, R>;
        var wd: array<f32, R>;
        for (var r = 0u; r < R; r++) {
          let b = min(row0 + r, P.rows - 1u) * P.row_bytes + (c0 + k) * BLOCK_BYTES;
          for (var u = 0u; u < WPL; u++) {
            wq[r][u] = q0_word(b, lane * WPL + u);
          }
          wd[r] = half_to_f32(w_u16(b));
        }
        for (var t = 0u; t < T; t++) {
          let xo = xo0 + t * XW + k * 9u;
          var xw: array<u32, WPL>;
          var xsum = 0i;
          for (var u = 0u; u < WPL; u++) {
            xw[u] = xs[xo + 1u + lane * WPL + u];
            if (Q4) {
              xsum += byte_sum(xw[u]);
            }
          }
          let xd = bitcast<f32>(xs[xo]);
          for (var r = 0u; r < R; r++) {
            var idot = -8 * xsum;
            for (var u = 0u; u < WPL; u++) {
              idot += dot4I8Packed(wq[r][u], xw[u]);
            }
            let i = r * T + t;
            acc[i] = chain_fma(f32(idot), wd[r] * xd, acc[i]);
          }
        }
      }
    }
  }
  if (LANES == 1u) {
    for (var i = 0u; i < R * T; i++) {
      let row = row0 + i / T;
      let tok = t0 + (grp % TG) * T + i % T;
      if (row < P.rows && tok < P.n_tok) {
        store_output(tok, P.row_base + row, acc[i]);
      }
    }
    return;
  }
  // RED outputs per thread per pass; thread j * (WG / LANES) + group sums output j of that group.
  for (var i0 = 0u; i0 < R * T; i0 += RED) {
    workgroupBarrier();
    for (var j = 0u; j < RED; j++) {
      xs[j * WG + lid] = bitcast<u32>(acc[i0 + j]);
    }
    workgroupBarrier();
    if (lid < RED * (WG / LANES)) {
      let j = lid / (WG / LANES);
      let g = lid % (WG / LANES);
      let a = j * WG + g * LANES;
      let y = ((red_at(a) + red_at(a + 4u)) + (red_at(a + 2u) + red_at(a + 6u))) +
              ((red_at(a + 1u) + red_at(a + 5u)) + (red_at(a + 3u) + red_at(a + 7u)));
      let row = first_row + (g / TG) * R + (i0 + j) / T;
      let tok = t0 + (g % TG) * T + (i0 + j) % T;
      if (row < P.rows && tok < P.n_tok) {
        store_output(tok, P.row_base + row, y);
      }
    }
  }
}
