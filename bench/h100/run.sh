#!/usr/bin/env bash
# One GPU-machine run (issue 7's benchmark): builds hearth-webgpu-bench and hearth-fixture there, writes
# random-weight models of Llama-3.2-1B's shape (F16, Q8_0, Q4_K_M), runs the kernel microbenchmarks and
# hearth WebGPU end to end, then llama.cpp Vulkan (node-llama-cpp prebuilt) on the same files and GPU.
# Stage first on the developer machine with bench/h100/prepare.sh, then in a device run (carry .device):
#   bash bench/h100/run.sh            # STEPS="e2e peer micro" by default; logs and JSON lines in $OUT
#   STEPS="e2e peer wasm micro" WASM_DIST=DIR bash bench/h100/run.sh   # + issue 5's browser-vs-native ratio
#   STEPS="kq q0 peer" WEIGHTS="Q4_K_M Q8_0" ...                        # the one-token kernels compared (cold), e2e each
#   STEPS="ab peer" AB="base HEARTH_PREFILL_ATTENTION=exact" ...         # end to end per environment setting
#   STEPS="ops" ...                                                       # the WebGPU op tests on this GPU
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
OUT=${OUT:-/tmp/h100-out}
mkdir -p "$OUT"
STEPS=${STEPS:-e2e peer micro}
WEIGHTS=${WEIGHTS:-F16 Q8_0 Q4_K_M}
log() { echo "[$(date -u +%T)] $*" | tee -a "$OUT/run.log"; }

source .device/on-device.sh
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv; uname -r; g++ --version | head -1; } \
  >> "$OUT/run.log" 2>&1

log "build"
gtest=()
if [[ " $STEPS " == *" ops "* ]]; then   # the op tests: GoogleTest from .device (prepare.sh)
  tar -C /tmp -xJf .device/googletest.tar.xz && gtest=(-DHEARTH_GTEST_SRC=/tmp/googletest)
fi
cmake -S bench/h100 -B /tmp/hb -G Ninja -DCMAKE_BUILD_TYPE=Release "${gtest[@]}" > /tmp/hb-config.log 2>&1 &&
  cmake --build /tmp/hb --target hearth-webgpu-bench hearth-fixture -j16 > /tmp/hb-build.log 2>&1
if [ $? -ne 0 ]; then
  tail -n 40 /tmp/hb-config.log /tmp/hb-build.log | tee -a "$OUT/run.log"
  exit 1
fi
bin=/tmp/hb/bin

log "models + peer unpack"
mkdir -p /tmp/vocab /tmp/models /tmp/peer
tar -C /tmp/vocab -xJf .device/llama3-vocab.tar.xz
(tar -C /tmp/peer -xJf .device/peer-vulkan.tar.xz) &
for w in $WEIGHTS; do
  # Llama-3.2-1B: 2048 wide, 16 layers, 8192 feed-forward, 32/8 heads, 128,256-token vocabulary, tied.
  "$bin/hearth-fixture" --arch llama --name "llama-3.2-1b-shape $w" --tokenizer-json /tmp/vocab/tokenizer.json \
    --tokenizer-config /tmp/vocab/tokenizer_config.json --pre llama-bpe --llama3-rope --rope-base 500000 \
    --embd 2048 --layers 16 --heads 32 --kv-heads 8 --ff 8192 --ctx 4096 --tied --weights "$w" --seed 7 \
    -o "/tmp/models/llama1b-$w.gguf" >> "$OUT/run.log" 2>&1 &
done
wait
ls -la /tmp/models >> "$OUT/run.log"
models=()
for w in $WEIGHTS; do models+=("/tmp/models/llama1b-$w.gguf"); done

margs=()
for m in "${models[@]}"; do margs+=(--model "$m"); done
# The SM clock while the steps run (the card idles at a low clock; a benchmark must see it boosted).
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,utilization.gpu --format=csv -lms 500 > "$OUT/clocks.csv" 2>&1 &
smi=$!
# Steps in the order named (each under its own time limit, so what finished still comes back).
for step in $STEPS; do
  case $step in
    e2e) log "hearth end to end"
         # E2E_ARGS=--no-breakdown: end to end only (the per-op breakdown takes a minute a model).
         timeout 240 "$bin/hearth-webgpu-bench" "${margs[@]}" ${E2E_ARGS:-} 2>&1 | tee "$OUT/e2e.jsonl" ;;
    peer) log "llama.cpp Vulkan"
          timeout 240 node bench/h100/peer_llamacpp.mjs --modules /tmp/peer/node_modules --gpu vulkan "${models[@]}" 2>&1 |
            tee -a "$OUT/peer.jsonl" ;;   # appended: a second peer step gives a second round
    wasm) # Issue 5: the browser's WebGPU build (wasm + JS device layer) under Node with dawn.node vs the
          # native build, same GGUF, same short prompt ("Once upon a time": 5 tokens) and 128 greedy tokens.
          # WASM_DIST: the folder with hearth-webgpu.{js,wasm} built from this tree (carry it).
          log "browser build (Node + dawn.node) vs native"
          for m in "${models[@]}"; do
            # wasm32: the file in MEMFS plus the weights must fit a 4 GiB heap.
            if [ "$(stat -c %s "$m")" -gt 1800000000 ]; then log "wasm: skipping $m (too large for a wasm32 heap)"; continue; fi
            timeout 120 "$bin/hearth-webgpu-bench" --model "$m" --prompt 5 --decode 128 2>&1 | grep end_to_end |
              tee -a "$OUT/wasm_native.jsonl"
            # WASM_PROF=1: a V8 CPU profile of the browser build's host side ($OUT/prof/*.cpuprofile).
            prof=(); [ -n "${WASM_PROF:-}" ] && prof=(--cpu-prof --cpu-prof-dir="$OUT/prof")
            timeout 150 node "${prof[@]}" web/bench/webgpu_node.mjs --dawn .device/webgpu/dist/linux-x64/dawn.node \
              --dist "${WASM_DIST:-web/dist}" -m "$m" -n 128 --ctx 160 --runs 3 2>&1 | tee -a "$OUT/wasm_node.log"
          done ;;
    kq) # The one-token K-quant kernels side by side, weights read cold (hearth-webgpu-bench rotates copies):
        # matvec_k_rows.wgsl (HEARTH_KQ_DECODE=rows), matvec_k_decode.wgsl (slots) and matvec_k_wide.wgsl (wide),
        # on the 1B model's K-quant shapes, then the Q4_K_M model end to end with each (wide8: the wide kernel
        # for rows of up to 8 super-blocks, slots past that). KQ_KERNELS / KQ_E2E narrow the lists.
        log "K-quant decode kernels: rows vs slots vs wide"
        shapes=(--matvec q4_K:2048x2048 --matvec q4_K:2560x2048 --matvec q6_K:512x2048 --matvec q4_K:16384x2048
                --matvec q6_K:2048x8192 --matvec q4_K:128256x2048 --matvec q6_K:128256x2048)
        for kq in ${KQ_KERNELS:-wide slots rows}; do
          HEARTH_KQ_DECODE=$kq timeout 120 "$bin/hearth-webgpu-bench" "${shapes[@]}" 2>&1 | sed "s/\"bench\"/\"kq\":\"$kq\",\"bench\"/" |
            tee -a "$OUT/kq.jsonl"
        done
        for m in "${models[@]}"; do
          case $m in *Q4_K_M*)
            for kq in ${KQ_E2E:-wide slots wide8 rows}; do
              HEARTH_KQ_DECODE=$kq timeout 100 "$bin/hearth-webgpu-bench" --model "$m" --no-breakdown 2>&1 |
                grep end_to_end | sed "s/\"bench\"/\"kq\":\"$kq\",\"bench\"/" | tee -a "$OUT/kq.jsonl"
            done ;;
          esac
        done ;;
    q0) # The one-token Q8_0 kernels: matvec_q0.wgsl (HEARTH_Q0_DECODE=lanes) and matvec_q0_wide.wgsl (wide),
        # cold, on the 1B model's Q8_0 shapes (q+k+v joined, gate+up joined), then the Q8_0 model end to end.
        log "Q8_0 decode kernels: lanes vs wide"
        shapes=(--matvec q8_0:2048x2048 --matvec q8_0:3072x2048 --matvec q8_0:16384x2048 --matvec q8_0:2048x8192
                --matvec q8_0:128256x2048)
        for q0 in wide lanes; do
          HEARTH_Q0_DECODE=$q0 timeout 120 "$bin/hearth-webgpu-bench" "${shapes[@]}" 2>&1 | sed "s/\"bench\"/\"q0\":\"$q0\",\"bench\"/" |
            tee -a "$OUT/q0.jsonl"
        done
        for m in "${models[@]}"; do
          case $m in *Q8_0*)
            for q0 in wide lanes; do
              HEARTH_Q0_DECODE=$q0 timeout 100 "$bin/hearth-webgpu-bench" --model "$m" --no-breakdown 2>&1 |
                grep end_to_end | sed "s/\"bench\"/\"q0\":\"$q0\",\"bench\"/" | tee -a "$OUT/q0.jsonl"
            done ;;
          esac
        done ;;
    ab) # Each model end to end once per setting in AB (space-separated; "base" = none, else VAR=value[,VAR=value]),
        # alternating settings over AB_ROUNDS rounds so that clock drift does not favour one.
        log "end to end per setting: ${AB:-base}"
        for round in $(seq "${AB_ROUNDS:-2}"); do
          for m in "${models[@]}"; do
            for v in ${AB:-base}; do
              envs=(); [ "$v" != base ] && IFS=, read -ra envs <<< "$v"
              env "${envs[@]}" timeout 100 "$bin/hearth-webgpu-bench" --model "$m" --no-breakdown 2>&1 | grep end_to_end |
                sed "s/\"bench\"/\"setting\":\"$v\",\"round\":$round,\"bench\"/" | tee -a "$OUT/ab.jsonl"
            done
          done
        done ;;
    ops) # The WebGPU op tests (tests/backend/webgpu/ops_test.cpp) on this GPU instead of SwiftShader: every
         # kernel against the CPU backend, including the paths only GPUs take (wide one-token kernels, the
         # tiled prefill kernels from 16 tokens).
         log "WebGPU op tests on the GPU"
         cmake --build /tmp/hb --target webgpu_ops_test -j16 > /tmp/hb-ops-build.log 2>&1 ||
           tail -n 30 /tmp/hb-ops-build.log | tee -a "$OUT/run.log"
         timeout ${OPS_TIMEOUT:-300} "$bin/webgpu_ops_test" > "$OUT/ops.log" 2>&1
         log "op tests exit $?: $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/ops.log" | tr '\n' ' ')" ;;
    micro) log "kernel microbenchmarks"
           timeout 180 "$bin/hearth-webgpu-bench" --micro 2>&1 | tee "$OUT/micro.jsonl" ;;
  esac
done
kill $smi 2>/dev/null
log "done"
