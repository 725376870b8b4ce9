// The weights and activations as words (most matvec kernels); the rest is matvec_params.wgsl.
@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<u32>;

#include "matvec_params.wgsl"
