// Float arithmetic the CPU backend gets from hardware that WGSL does not promise: a fused multiply-add
// (SwiftShader's fma() rounds twice), sums in double, and expf as glibc (correctly rounded in practice)
// and as ggml_v_expf compute it. Built from error-free transformations (Dekker, Knuth), which rely on
// IEEE f32 division/multiplication and no contraction of a * b + c (tests/backend/webgpu checks both).

// a + b = s + e exactly (Knuth's two-sum).
fn two_sum(a: f32, b: f32) -> vec2<f32> {
  let s = a + b;
  let bb = s - a;
  return vec2<f32>(s, (a - (s - bb)) + (b - bb));
}

// Veltkamp split: a = hi + lo with 12-bit halves, so their products are exact.
fn split12(a: f32) -> vec2<f32> {
  let t = 4097.0 * a;
  let hi = t - (t - a);
  return vec2<f32>(hi, a - hi);
}

// a * b = p + e exactly (Dekker's two-product).
fn two_prod(a: f32, b: f32) -> vec2<f32> {
  let p = a * b;
  let x = split12(a);
  let y = split12(b);
  return vec2<f32>(p, ((x.x * y.x - p) + x.x * y.y + x.y * y.x) + x.y * y.y);
}

// round(a * b + c) with one rounding, as hardware FMA (exact but in rare double-rounding ties).
fn fma_exact(a: f32, b: f32, c: f32) -> f32 {
  let p = two_prod(a, b);
  let s = two_sum(p.x, c);
  return s.x + (s.y + p.y);
}

// A double-length accumulator (hi, lo) standing in for the CPU's double sums: ~48 significant bits.
fn dd_add(acc: vec2<f32>, v: f32) -> vec2<f32> {
  let s = two_sum(acc.x, v);
  let lo = s.y + acc.y;
  let r = s.x + lo;
  return vec2<f32>(r, lo - (r - s.x));
}

fn dd_add_dd(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let s = two_sum(a.x, b.x);
  let lo = s.y + a.y + b.y;
  let r = s.x + lo;
  return vec2<f32>(r, lo - (r - s.x));
}

// float(acc / n) where acc is a double-length value: q, then the remainder's correction.
fn dd_div_to_f32(acc: vec2<f32>, n: f32) -> f32 {
  let q = acc.x / n;
  let p = two_prod(q, n);
  let rem = ((acc.x - p.x) - p.y) + acc.y;
  return q + rem / n;
}

// float(1 / acc) for a double-length acc.
fn dd_recip_to_f32(acc: vec2<f32>) -> f32 {
  let q = 1.0 / acc.x;
  let p = two_prod(q, acc.x);
  let rem = ((1.0 - p.x) - p.y) - q * acc.y;
  return q + rem / acc.x;
}

// 2^n * x for integer-valued n in [-252, 252] (two steps keep each factor a normal float).
fn scale2(x: f32, n: f32) -> f32 {
  let h = i32(n) / 2;
  return x * bitcast<f32>(u32(h + 127) << 23u) * bitcast<f32>(u32(i32(n) - h + 127) << 23u);
}

// exp(x), correctly rounded in all but about one case in a hundred (then off by one ulp), as glibc's expf.
// x = k ln2 + r with ln2 in three parts (k * part is exact), e^r = 1 + r + r^2/2 + r^3 p(r) in double-length.
fn exp_accurate(x: f32) -> f32 {
  if (x < -104.0) {
    return 0.0;
  }
  if (x > 88.8) {
    return x * 0x1p127f;  // overflows to infinity (a constant infinity does not compile)
  }
  let k = round(x * 1.4426950408889634);
  let r1 = x - k * 0x1.62e4p-1f;            // ln2 high part (15 bits): exact
  let r2 = two_sum(r1, -k * 0x1.7f7cp-20f);  // middle part (15 bits): exact product
  let r = dd_add(r2, -k * 0x1.1cf79ap-36f);  // the rest of ln2 (matters only to ~2^-40)
  // r^3 (1/6 + r/24 + ... + r^5/40320): below 0.008, so its own rounding errors stay under 2^-31.
  let rh = r.x;
  let tail = rh * rh * rh * (0.16666667 + rh * (0.041666668 + rh * (0.008333334 + rh * (0.0013888889 +
             rh * (0.0001984127 + rh * 0.0000248015873)))));
  let sq = two_prod(rh, rh);                // r^2 exactly (the lo part of r only matters linearly)
  var s = vec2<f32>(1.0, 0.0);
  s = dd_add(s, rh);
  s = dd_add(s, r.y);
  s = dd_add(s, 0.5 * sq.x);
  s = dd_add(s, 0.5 * sq.y + rh * r.y + tail);
  return scale2(s.x + s.y, k);
}

// tanh to within about an ulp of 1 (GELU adds it to 1; softcaps scale it); WGSL's tanh is looser on SwiftShader.
fn tanh_accurate(y: f32) -> f32 {
  let a = min(abs(y), 20.0);
  let z = 1.0 - 2.0 / (exp_accurate(2.0 * a) + 1.0);
  return select(z, -z, y < 0.0);
}

// a * b + c rounded once: the adapter's fma() where Ops found it fused (NVIDIA), else fma_exact. The
// error-free transformations under fma_exact are broken by a compiler that contracts a * b + c itself.
fn fma_once(a: f32, b: f32, c: f32, fused: bool) -> f32 {
  if (fused) {
    return fma(a, b, c);
  }
  return fma_exact(a, b, c);
}

// ggml_v_expf (ARM optimized-routines polynomial, as the CPU backend's expf_avx512), operation for operation;
// `fused`: the adapter's fma() rounds once (Ops::fused_fma).
fn exp_ggml_fma(x: f32, fused: bool) -> f32 {
  let rr = 0x1.8p23f;
  let z = fma_once(x, 0x1.715476p+0f, rr, fused);
  let n = z - rr;
  let b = fma_once(-n, 0x1.7f7d1cp-20f, fma_once(-n, 0x1.62e4p-1f, x, fused), fused);
  let u = b * b;
  let j = fma_once(fma_once(fma_once(0x1.0e4020p-7f, b, 0x1.573e2ep-5f, fused), u,
                            fma_once(0x1.555e66p-3f, b, 0x1.fffdb6p-2f, fused), fused),
                   u, fma_once(0x1.ffffecp-1f, b, 1.0, fused), fused);
  if (abs(n) > 192.0) {
    return select(0.0, n * 0x1p127f, n > 0.0);  // 0 or infinity
  }
  return scale2(j, n);
}

fn exp_ggml(x: f32) -> f32 {
  return exp_ggml_fma(x, false);
}
