#!/usr/bin/env bash
# Builds the fuzz preset and runs each libFuzzer target: scripts/run_fuzz.sh [gguf-seconds=60] [other-seconds=30]
# Exits non-zero on any crash, sanitizer report, leak, oversized allocation, slow input or broken invariant.
set -euo pipefail
gguf_seconds="${1:-60}"
other_seconds="${2:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${HEARTH_FUZZ_BUILD_DIR:-$root/build/fuzz}"
cd "$root"

if [[ -z "${HEARTH_FUZZ_BUILD_DIR:-}" ]]; then
  cmake --preset fuzz >/dev/null
fi
cmake --build "$build" --target gguf_reader_fuzz gguf_seed_gen tokenizer_fuzz template_fuzz grammar_fuzz -j2

binary() { find "$build" -name "$1" -type f -perm -u+x | head -n1; }
artifacts="$build/fuzz-artifacts/"
mkdir -p "$artifacts"

# GGUF reader: hostile files, seeded with valid ones written at run time (no binary seeds committed).
seeds="$build/fuzz-seeds/gguf_reader"
corpus="$build/fuzz-corpus/gguf_reader"
mkdir -p "$seeds" "$corpus"
"$(binary gguf_seed_gen)" "$seeds"
# The GGUF reader's run goes on in the background while the tokenizer, template and grammar fuzzers take the other
# core (CI has two); its log is printed when it ends, and its exit status fails the script.
echo "fuzzing the GGUF reader for ${gguf_seconds}s (corpus $corpus, crashes go to $artifacts)"
"$(binary gguf_reader_fuzz)" "$corpus" "$seeds" \
  -dict="$root/fuzz/gguf.dict" \
  -max_total_time="$gguf_seconds" \
  -malloc_limit_mb=64 -rss_limit_mb=1024 -max_len=65536 -timeout=10 \
  -artifact_prefix="$artifacts" -print_final_stats=1 > "$build/gguf_reader_fuzz.log" 2>&1 &
gguf_pid=$!

# Tokenizers on the fixtures' real vocabularies (the fixtures must exist: scripts/make_fixtures.sh).
corpus="$build/fuzz-corpus/tokenizer"
mkdir -p "$corpus"
echo "fuzzing the tokenizers for ${other_seconds}s"
"$(binary tokenizer_fuzz)" "$corpus" \
  -max_total_time="$other_seconds" \
  -malloc_limit_mb=256 -rss_limit_mb=2048 -max_len=4096 -timeout=10 \
  -artifact_prefix="$artifacts" -print_final_stats=1

# The Jinja engine, seeded with the 93 real chat templates of the template tests.
seeds="$build/fuzz-seeds/template"
corpus="$build/fuzz-corpus/template"
mkdir -p "$seeds" "$corpus"
python3 - "$root/tests/data/template/chat_templates.json" "$seeds" <<'PY'
import hashlib, json, sys
for t in json.load(open(sys.argv[1]))["templates"]:
    src = t["source"].encode()
    open(f"{sys.argv[2]}/{hashlib.sha1(src).hexdigest()}", "wb").write(src)
PY
echo "fuzzing the Jinja engine for ${other_seconds}s"
"$(binary template_fuzz)" "$corpus" "$seeds" \
  -max_total_time="$other_seconds" \
  -malloc_limit_mb=512 -rss_limit_mb=2048 -max_len=16384 -timeout=10 \
  -artifact_prefix="$artifacts" -print_final_stats=1

# Structured output: GBNF and JSON schemas (first byte 0: GBNF, 1: schema; text to match after a NUL).
seeds="$build/fuzz-seeds/grammar"
corpus="$build/fuzz-corpus/grammar"
mkdir -p "$seeds" "$corpus"
printf '\x00root ::= "a" [b-z]* ("x" | y)+\ny ::= [0-9]{1,3}\n\x00abx1' > "$seeds/gbnf"
printf '\x01{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"array","items":{"type":"string"}}},"required":["a"]}\x00{"a": 1}' > "$seeds/schema"
echo "fuzzing the grammar compiler for ${other_seconds}s"
"$(binary grammar_fuzz)" "$corpus" "$seeds" \
  -max_total_time="$other_seconds" \
  -malloc_limit_mb=512 -rss_limit_mb=2048 -max_len=4096 -timeout=10 \
  -artifact_prefix="$artifacts" -print_final_stats=1

# With CI's 45 s and 20 s it ends within the other three's 60 s (waiting for it before the grammar fuzzer left a
# core idle for 20 s).
gguf_status=0
wait "$gguf_pid" || gguf_status=$?
cat "$build/gguf_reader_fuzz.log"
[ "$gguf_status" = 0 ] || { echo "the GGUF reader fuzzer failed (exit $gguf_status)"; exit "$gguf_status"; }
