#!/usr/bin/env bash
# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (debug preset). Left to the release run: the
# model-level llama.cpp comparisons, the two slowest tests under ASan (20 grammar-constrained generations:
# 330 s; the template step-limit test: 140 s), whose code the grammar and Jinja fuzzers cover under ASan, and
# the per-fixture WebGPU model runs (SwiftShader's time, not hearth's code: the chained-step model test, the
# op tests and the runtime's WebGPU test run the same host code here).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cmake --preset debug >/dev/null
cmake --build build/debug -j"$(nproc)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --preset debug -j"$(nproc)" -E 'ModelVsLlamaCpp|GrammarGeneration\.TwentySamples|TemplateLimits\.NestedLoopsHitStepLimit|^webgpu_model_(gemma|llama|phi|qwen)' "$@"
