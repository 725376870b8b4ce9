#!/usr/bin/env bash
# Builds the browser artifacts with Emscripten (Debian's emscripten 3.1.6) and copies them to web/dist/:
#   hearth-threads.{js,wasm,worker.js}  pthreads + SIMD128, for cross-origin isolated pages
#   hearth-single.{js,wasm}             one thread + SIMD128
#   hearth-webgpu.{js,wasm}             one thread + SIMD128 + WebGPU (navigator.gpu through Asyncify)
# The web/ worker picks one at run time. Usage: scripts/build_wasm.sh [threads|single|webgpu]  (default: all)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}   # emscripten's tools import acorn from Debian's node modules
command -v emcc >/dev/null || { echo "emcc not found: install the emscripten and node-acorn packages (scripts/setup.sh)" >&2; exit 1; }

jobs=$(nproc)
which=${1:-all}
mkdir -p web/dist
build() {   # preset, build dir, targets...
  cmake --preset "$1" >/dev/null
  cmake --build "$2" --target "${@:3}" -j"$jobs"
  cp "$2"/dist/hearth-* web/dist/
}
case "$which" in all|threads|single|webgpu) ;; *) echo "usage: $0 [threads|single|webgpu]" >&2; exit 2 ;; esac
want() { [ "$which" = all ] || [ "$which" = "$1" ]; }
want threads && build wasm build/wasm hearth_wasm
# The single-thread preset also builds the kernel check that web/tests/wasm_kernels.test.mjs runs in Node.
want single && build wasm-single build/wasm-single hearth_wasm hearth_wasm_kernel_check
# The WebGPU preset also builds the WebGPU op tests that web/tests/webgpu.test.mjs runs in Chromium
# (they stay in build/wasm-gpu/dist; only hearth-webgpu.* is copied to web/dist).
want webgpu && build wasm-webgpu build/wasm-gpu hearth_wasm hearth_webgpu_ops_test
ls -l web/dist
