// y[row] = dot(W row, x) for one token (decode) and F32 / F16 / BF16 weights, reading 16 bytes per load.
// A workgroup takes R rows and its threads stride over the columns together, so the activation values a
// thread loads serve all R rows and each thread has R loads in flight; the per-thread sums meet in
// workgroup memory in two steps (no subgroups: SwiftShader's are 4 wide and browsers may not offer them).
// Specialized by KIND (0 f32; 1 f16 decoded on the bits; 2 f16 by unpack2x16float, where Ops found it
// exact; 3 bf16) and R.
#include "float_formats.wgsl"

@group(0) @binding(0) var<storage, read> W: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
#include "matvec_params.wgsl"

// > 0 soft-cap (gemma 2 logits)
fn capped(y: f32) -> f32 {
  return tanh(y / P.softcap) * P.softcap;
}

const WG: u32 = 256u;
const R: u32 = {{ROWS}}u;
const KIND: u32 = {{KIND}}u;
const VALUES: u32 = select(8u, 4u, KIND == 0u);  // weights per vec4<u32>
var<workgroup> partial: array<f32, R * WG>;

fn halves(w: u32) -> vec2<f32> {
  if (KIND == 2u) {
    return unpack2x16float(w);
  }
  if (KIND == 3u) {
    return vec2<f32>(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xffff0000u));
  }
  return vec2<f32>(half_to_f32(w & 0xffffu), half_to_f32(w >> 16u));
}

fn vec_dot(w: vec4<u32>, x0: vec4<f32>, x1: vec4<f32>) -> f32 {
  if (KIND == 0u) {
    return dot(bitcast<vec4<f32>>(w), x0);
  }
  return dot(vec4<f32>(halves(w.x), halves(w.y)), x0) + dot(vec4<f32>(halves(w.z), halves(w.w)), x1);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first_row = (wid.x + wid.y * P.grid_x) * R;
  if (first_row >= P.rows) {
    return;
  }
  let vecs = P.cols / VALUES;
  let row_vecs = P.row_bytes / 16u;
  var acc: array<f32, R>;
  for (var j = lid; j < vecs; j += WG) {
    var x0: vec4<f32>;
    var x1: vec4<f32>;
    if (KIND == 0u) {
      x0 = X[j];
    } else {
      x0 = X[2u * j];
      x1 = X[2u * j + 1u];
    }
    for (var r = 0u; r < R; r++) {
      // Rows past the end (last workgroup) re-read the last row; their sums are not stored.
      let row = min(first_row + r, P.rows - 1u);
      acc[r] += vec_dot(W[row * row_vecs + j], x0, x1);
    }
  }
  for (var r = 0u; r < R; r++) {
    partial[r * WG + lid] = acc[r];
  }
  workgroupBarrier();
  // 256 sums per row -> 32 (each thread its row's k, k + 32, ..., in place: only it reads slot k) -> 1.
  if (lid < 32u * R) {
    let base = (lid / 32u) * WG + lid % 32u;
    var s = 0.0;
    for (var i = 0u; i < WG / 32u; i++) {
      s += partial[base + 32u * i];
    }
    partial[base] = s;
  }
  workgroupBarrier();
  if (lid < R && first_row + lid < P.rows) {
    var s = 0.0;
    for (var k = 0u; k < 32u; k++) {
      s += partial[lid * WG + k];
    }
    store_output(0u, P.row_base + first_row + lid, s);
  }
}
