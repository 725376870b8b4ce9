// Activations to Q8_K (per 256 values: iscale = -127 / (the first value of largest magnitude),
// q = min(127, round-half-even(iscale * x)), d = 1 / iscale as f32), as the CPU backend does.
// One thread per super-block.
struct Params {
  cols: u32,
  n_tok: u32,
  x_stride: u32,
  out_stride: u32,
}

@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> XQ: array<u32>;
@group(0) @binding(2) var<uniform> P: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let blocks = P.cols / 256u;
  let i = gid.x;
  if (i >= blocks * P.n_tok) {
    return;
  }
  let t = i / blocks;
  let blk = i % blocks;
  let xb = t * P.x_stride + blk * 256u;
  let ob = t * P.out_stride + blk * 65u;
  var amax = 0.0;
  var vmax = 0.0;
  for (var j = 0u; j < 256u; j++) {
    let v = X[xb + j];
    if (abs(v) > amax) {
      amax = abs(v);
      vmax = v;
    }
  }
  if (amax == 0.0) {
    for (var k = 0u; k < 65u; k++) {
      XQ[ob + k] = 0u;
    }
    return;
  }
  let iscale = -127.0 / vmax;
  XQ[ob] = bitcast<u32>(1.0 / iscale);
  for (var k = 0u; k < 64u; k++) {
    var word = 0u;
    for (var b = 0u; b < 4u; b++) {
      let q = min(127, i32(round(iscale * X[xb + 4u * k + b])));
      word |= (u32(q) & 0xffu) << (8u * b);
    }
    XQ[ob + 1u + k] = word;
  }
}
