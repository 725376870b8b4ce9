#!/usr/bin/env bash
# Installs everything hearth needs on a fresh Debian 12 machine (Debian packages + npm), builds the release
# preset, and writes the fixture models and the bundled default model. Safe to run again.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
packages=(
  build-essential cmake ninja-build pkg-config git
  nlohmann-json3-dev libcli11-dev libfmt-dev libspdlog-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev libcpp-httplib-dev libtomlplusplus-dev   # prompt registry: storage, HTTP, config
  clang-14 libclang-rt-14-dev            # libFuzzer + sanitizer runtimes
  lld                                    # the linker every native preset uses (CMakeLists.txt)
  sentencepiece                          # spm_encode: a second tokenizer reference
  nodejs npm                             # reference tools (llama.cpp via node-llama-cpp, HF tokenizers/jinja)
  python3
  chromium libvulkan1                    # WebGPU tests: SwiftShader's Vulkan ICD (ships with chromium) + loader
  fonts-liberation ca-certificates       # recommends that are used: a font for Chromium, TLS roots for npm
  emscripten node-acorn                  # browser build (scripts/build_wasm.sh)
  libboost-dev libcurl4-openssl-dev      # gateway: HTTP server (Beast/Asio), remote endpoints (libcurl)
)
missing=()
for p in "${packages[@]}"; do
  # Node may come from elsewhere on developer machines; only install Debian's when there is none.
  if [ "$p" = nodejs ] || [ "$p" = npm ]; then command -v "$p" >/dev/null && continue; fi
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  # No recommends: they were ~60% of the download (llvm-14-dev, a JRE, Mesa, numpy) and nothing here uses them.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Reference tools from npm (pinned by package-lock.json). The gateway's acceptance tests drive `hearth serve`
# with the official openai client (pinned); it must be there before the configure step, which registers those
# tests only when it is. The other installs are network-bound and run in the background while the release
# preset compiles (~30 s of a clean run); they are waited for before the fixtures, which read their files.
[ -d tests/gateway/node_modules/openai ] || (cd tests/gateway && npm install --no-audit --no-fund --loglevel=error)
npm_jobs=()
if [ ! -d tools/reference/node_modules/node-llama-cpp ] || [ ! -d tools/reference/node_modules/ajv-formats ]; then
  # npm install, not npm ci: npm leaves other platforms' optional llama.cpp builds out of the lock file,
  # which makes npm ci refuse it.
  (cd tools/reference && npm install --no-audit --no-fund --loglevel=error) & npm_jobs+=($!)
fi
# Dawn's WebGPU C library for the native WebGPU backend (pinned by tools/webgpu/package-lock.json).
if [ ! -f tools/webgpu/node_modules/bun-webgpu-linux-x64/libwebgpu_wrapper.so ]; then
  (cd tools/webgpu && npm ci --no-audit --no-fund --loglevel=error) & npm_jobs+=($!)
fi
# The browser package's own dependencies (its Chromium tests use them; the Emscripten build does not).
(cd web && npm install --no-audit --no-fund --loglevel=error) & npm_jobs+=($!)
wait_npm() { local j; for j in "${npm_jobs[@]}"; do wait "$j"; done; npm_jobs=(); }   # fails setup if one failed

# HEARTH_BUILD_BENCH=OFF (set by .ci/run) leaves the benchmarks out: printed figures, never a CI gate.
cmake --preset release ${HEARTH_BUILD_BENCH:+-DHEARTH_BUILD_BENCH=$HEARTH_BUILD_BENCH} >/dev/null
cmake --build build/release -j"$(nproc)"
wait_npm
# The fixture writer runs on one core (~30 CPU-s); the Emscripten builds take the other meanwhile.
scripts/make_fixtures.sh & fixtures_job=$!
scripts/build_wasm.sh >/dev/null   # browser package
wait "$fixtures_job"
echo "setup done: try  build/release/bin/hearth run \"Once upon a time\""
