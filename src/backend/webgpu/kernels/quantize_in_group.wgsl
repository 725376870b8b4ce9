// Q8_0 / Q8_K blocks of activations, with the CPU's arithmetic (the op tests compare the bytes): used by the
// quantization passes (quantize_q8_0/q8_k.wgsl) and inside the 256-thread kernels that produce a matvec's
// input (the norms, the gated activation), which then need no pass of their own. The including kernel
// declares `XQ: array<u32>` (read_write) and `fn produced_value(i: u32) -> f32` (its output, read back), and
// includes float_formats.wgsl and exact_float.wgsl. Every function here has barriers: call it from uniform
// control flow, from every thread of the workgroup (at most 256).

var<workgroup> q_best_abs: array<f32, 256>;
var<workgroup> q_best_val: array<f32, 256>;
var<workgroup> q_codes: array<u32, 256>;

// One Q8_0 block of 32 values per 8 threads: thread `lid` holds values 4 * (lid % 8) .. + 3 of its block;
// `ob` is the block's first word in XQ (9 words: f16 scale, then 8 words of 4 quants).
fn q8_0_blocks(v: vec4<f32>, lid: u32, valid: bool, ob: u32) {
  let lane = lid % 8u;
  workgroupBarrier();
  q_best_abs[lid] = max(max(abs(v.x), abs(v.y)), max(abs(v.z), abs(v.w)));  // max is exact in any order
  workgroupBarrier();
  for (var s = 4u; s > 0u; s >>= 1u) {
    if (lane < s) {
      q_best_abs[lid] = max(q_best_abs[lid], q_best_abs[lid + s]);
    }
    workgroupBarrier();
  }
  if (valid) {
    let amax = q_best_abs[lid - lane];
    let d = dd_div_to_f32(vec2<f32>(amax, 0.0), 127.0);
    let id = select(0.0, dd_div_to_f32(vec2<f32>(127.0, 0.0), amax), amax != 0.0);
    if (lane == 0u) {
      XQ[ob] = bitcast<u32>(f16_round(d));
    }
    var word = 0u;
    for (var b = 0u; b < 4u; b++) {
      word |= (u32(i32(round(v[b] * id))) & 0xffu) << (8u * b);
    }
    XQ[ob + 1u + lane] = word;
  }
}

// One Q8_K super-block of 256 values per 64 threads: thread `lid` holds values 4 * (lid % 64) .. + 3;
// `ob` is the super-block's first word in XQ (65 words: f32 scale, then 64 words of 4 quants). The value
// of largest magnitude is the first one (a tree that keeps the lower index on equal magnitudes).
fn q8_k_blocks(v: vec4<f32>, lid: u32, valid: bool, ob: u32) {
  let l = lid % 64u;
  var ba = 0.0;
  var bv = 0.0;
  for (var b = 0u; b < 4u; b++) {
    if (abs(v[b]) > ba) {
      ba = abs(v[b]);
      bv = v[b];
    }
  }
  workgroupBarrier();
  q_best_abs[lid] = ba;
  q_best_val[lid] = bv;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (l < s && q_best_abs[lid + s] > q_best_abs[lid]) {
      q_best_abs[lid] = q_best_abs[lid + s];
      q_best_val[lid] = q_best_val[lid + s];
    }
    workgroupBarrier();
  }
  if (valid) {
    let amax = q_best_abs[lid - l];
    if (amax == 0.0) {
      XQ[ob + 1u + l] = 0u;
      if (l == 0u) {
        XQ[ob] = 0u;
      }
    } else {
      let iscale = dd_div_to_f32(vec2<f32>(-127.0, 0.0), q_best_val[lid - l]);
      if (l == 0u) {
        XQ[ob] = bitcast<u32>(dd_recip_to_f32(vec2<f32>(iscale, 0.0)));
      }
      var word = 0u;
      for (var b = 0u; b < 4u; b++) {
        word |= (u32(min(127, i32(round(iscale * v[b])))) & 0xffu) << (8u * b);
      }
      XQ[ob + 1u + l] = word;
    }
  }
}

// Four produced values from x on (zeros where the block does not exist).
fn produced_quad(x: u32, valid: bool) -> vec4<f32> {
  if (!valid) {
    return vec4<f32>(0.0);
  }
  return vec4<f32>(produced_value(x), produced_value(x + 1u), produced_value(x + 2u), produced_value(x + 3u));
}

// n values (a multiple of the block size) from produced_value(xb ..), quantized into XQ[qb ..]: mode 1 =
// Q8_0, 2 = Q8_K. The row was written by other threads of this workgroup: a storage barrier first.
fn quantize_row_in_group(xb: u32, n: u32, qb: u32, mode: u32, lid: u32) {
  storageBarrier();
  if (mode == 1u) {
    let nb = n / 32u;
    for (var base = 0u; base < nb; base += 32u) {
      let blk = base + lid / 8u;
      let valid = blk < nb;
      q8_0_blocks(produced_quad(xb + blk * 32u + 4u * (lid % 8u), valid), lid, valid, qb + blk * 9u);
    }
  } else if (mode == 2u) {
    let nb = n / 256u;
    for (var base = 0u; base < nb; base += 4u) {
      let blk = base + lid / 64u;
      let valid = blk < nb;
      q8_k_blocks(produced_quad(xb + blk * 256u + 4u * (lid % 64u), valid), lid, valid, qb + blk * 65u);
    }
  }
}
