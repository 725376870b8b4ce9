// Greedy sampling on the GPU: the index of the largest value of each row (the first one on ties), so
// only token ids travel back to the host. Two stages, so a 128k-logit row is read by many workgroups
// rather than one: stage 0 reduces each chunk of a row to a (value, index) pair in PART, stage 1 reduces
// a row's pairs to its index in OUT.
struct Params {
  rows: u32,
  n: u32,
  stride: u32,
  chunk: u32,     // values per stage-0 workgroup
  n_chunks: u32,
  stage: u32,
}

@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> PART: array<u32>;  // [row][chunk]: value bits, index
@group(0) @binding(2) var<storage, read_write> OUT: array<u32>;
@group(0) @binding(3) var<uniform> P: Params;

const WG: u32 = 256u;
var<workgroup> best_v: array<f32, WG>;
var<workgroup> best_i: array<u32, WG>;

// The workgroup's best pair (larger value, or equal value and smaller index), left in best_v[0]/best_i[0].
fn reduce_pairs(bv: f32, bi: u32, lid: u32) {
  best_v[lid] = bv;
  best_i[lid] = bi;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      let ov = best_v[lid + s];
      let oi = best_i[lid + s];
      if (ov > best_v[lid] || (ov == best_v[lid] && oi < best_i[lid])) {
        best_v[lid] = ov;
        best_i[lid] = oi;
      }
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  var bv = -3.4e38;
  var bi = 0xffffffffu;
  if (P.stage == 0u) {
    let c = wid.x;
    let r = wid.y;
    let end = min(P.n, (c + 1u) * P.chunk);
    for (var i = c * P.chunk + lid; i < end; i += WG) {
      let v = X[r * P.stride + i];
      if (v > bv) {
        bv = v;
        bi = i;
      }
    }
    reduce_pairs(bv, bi, lid);
    if (lid == 0u) {
      PART[2u * (r * P.n_chunks + c)] = bitcast<u32>(best_v[0]);
      PART[2u * (r * P.n_chunks + c) + 1u] = best_i[0];
    }
  } else {
    let r = wid.x;
    for (var c = lid; c < P.n_chunks; c += WG) {
      let v = bitcast<f32>(PART[2u * (r * P.n_chunks + c)]);
      let i = PART[2u * (r * P.n_chunks + c) + 1u];
      if (v > bv || (v == bv && i < bi)) {
        bv = v;
        bi = i;
      }
    }
    reduce_pairs(bv, bi, lid);
    if (lid == 0u) {
      OUT[r] = best_i[0];
    }
  }
}
