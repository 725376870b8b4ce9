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
const HD: u32 = {{HD}}u;
#include "attention_key_dot.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y;
  let t = wid.z;
  let range = attended_range(t);
  if (range.x + wid.x * WG >= range.y) {
    return;  // no position for this workgroup (the whole workgroup leaves, so no barrier is skipped)
  }
  load_query(t, h, lid);
  let rows_base = key_rows_base(t, h);
  let srow = (t * P.n_head + h) * P.n_ctx;
  for (var p = range.x + wid.x * WG + lid; p < range.y; p += P.tiles_x * WG) {
    S[srow + p] = position_score(rows_base, p);
  }
}
