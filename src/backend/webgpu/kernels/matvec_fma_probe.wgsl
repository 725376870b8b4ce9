// Does this adapter's fma() round once (as the CPU's FMA does)? Ops runs it once on inputs whose fused and
// twice-rounded results differ and compares with the host's std::fma; then the matvec chains can use
// fma() instead of the ~20-operation fma_exact.
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i < arrayLength(&Y)) {
    Y[i] = fma(A[3u * i], A[3u * i + 1u], A[3u * i + 2u]);
  }
}
