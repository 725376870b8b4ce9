#!/usr/bin/env bash
# Builds the fuzz preset and fuzzes the GGUF reader: scripts/run_fuzz.sh [seconds=60]
# Exits non-zero on any crash, sanitizer report, leak, oversized allocation or slow input.
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${HEARTH_FUZZ_BUILD_DIR:-$root/build/fuzz}"
cd "$root"

if [[ -z "${HEARTH_FUZZ_BUILD_DIR:-}" ]]; then
  cmake --preset fuzz >/dev/null
fi
cmake --build "$build" --target gguf_reader_fuzz gguf_seed_gen -j2

fuzzer="$(find "$build" -name gguf_reader_fuzz -type f -perm -u+x | head -n1)"
seed_gen="$(find "$build" -name gguf_seed_gen -type f -perm -u+x | head -n1)"
seeds="$build/fuzz-seeds/gguf_reader"
corpus="$build/fuzz-corpus/gguf_reader"
artifacts="$build/fuzz-artifacts/"
mkdir -p "$seeds" "$corpus" "$artifacts"
"$seed_gen" "$seeds"

echo "fuzzing the GGUF reader for ${seconds}s (corpus $corpus, crashes go to $artifacts)"
"$fuzzer" "$corpus" "$seeds" \
  -dict="$root/fuzz/gguf.dict" \
  -max_total_time="$seconds" \
  -malloc_limit_mb=64 -rss_limit_mb=1024 -max_len=65536 -timeout=10 \
  -artifact_prefix="$artifacts" -print_final_stats=1
