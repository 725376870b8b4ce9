// Probe of WebGPU matrix units through Dawn's `chromium-experimental-subgroup-matrix` (Vulkan: VK_KHR_cooperative_matrix)
// under Node with dawn.node: adapter info, features, subgroup sizes and every subgroup-matrix configuration; an exact
// correctness check per configuration; then C[M×N] = A[M×K] × B[K×N] at prefill shapes with several tilings
// (matrices loaded straight from storage, or staged through workgroup memory), beside a plain ALU dot4I8Packed kernel.
// Every timed kernel's output is also checked on sampled entries against a JS reference. The "bs_" kernels have the shape
// a Q8_0 prefill kernel would take: an i8 MMA per 32-wide K block, then f32 per-(row, block) scales applied outside it.
//   node bench/h100/subgroup_matrix_probe.mjs --dawn PATH/dawn.node [--enable t1,t2] [--disable t3] [--only i8,u8,f16,f32]
//     [--no-alu] [--no-mma] [--no-blockscale] [--variants substr,substr] [--shapes 512x2048x2048,512x8192x2048]
//     [--time-limit 200] [--full i8->i32,f16->f32] [--target-ms 30] [--trials 2]
//   Local checks without matrices: --emulate-mma (scalar stand-ins, tests the harness), --compile-only CT,RT,M,N,K
//     [--print-wgsl --sgs 32] (prints the generated WGSL and the compiler's messages).
// Toggles always on: allow_unsafe_apis, use_vulkan_memory_model; always off: timestamp_quantization.
// Output: JSON lines ({"event": ...}) plus a plain-text summary at the end. Without a GPU:
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (no subgroup matrices there: only the ALU kernel runs).
import { randomFillSync } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";

const argv = process.argv.slice(2);
function opt(name, def) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
}
const flag = (name) => argv.includes(`--${name}`);
const DAWN = opt("dawn", ".device/webgpu/dist/linux-x64/dawn.node");
const TIME_LIMIT_S = Number(opt("time-limit", 200));
const ONLY = opt("only", "") ? opt("only", "").split(",") : null;
const VARIANT_FILTER = opt("variants", "") ? opt("variants", "").split(",") : null;
const SHAPES = opt("shapes", "512x2048x2048,512x8192x2048").split(",").map((s) => {
  const [M, N, K] = s.split("x").map(Number);
  return { M, N, K };
});
const RUN_ALU = !flag("no-alu");
// configurations ("ct->rt") that get every timed variant; the others get REDUCED_VARIANTS only.
const FULL = opt("full", "i8->i32,f16->f32,f32->f32").split(",");
const RUN_MMA = !flag("no-mma");
const TARGET_MS = Number(opt("target-ms", 30)); // GPU time per timed trial
const TRIALS = Number(opt("trials", 2));
const MIN_REPS = 50;

const T0 = Date.now();
const elapsed = () => (Date.now() - T0) / 1000;
const log = (o) => console.log(JSON.stringify(o));
const say = (s) => console.log(s);
const summary = [];

const watchdog = setTimeout(() => {
  say(`WATCHDOG: time limit ${TIME_LIMIT_S}s reached at ${elapsed().toFixed(1)}s; partial summary follows`);
  printSummary();
  process.kill(process.pid, "SIGKILL");
}, TIME_LIMIT_S * 1000);

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise((_, rej) => (t = setTimeout(() => rej(new Error(`timeout after ${ms} ms: ${what}`)), ms))),
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// GPU setup
const { create, globals } = createRequire(import.meta.url)(path.resolve(DAWN));
Object.assign(globalThis, globals);
const enableToggles = ["allow_unsafe_apis", "use_vulkan_memory_model", ...(opt("enable", "") ? opt("enable", "").split(",") : [])];
const disableToggles = ["timestamp_quantization", ...(opt("disable", "") ? opt("disable", "").split(",") : [])];
const createFlags = [`enable-dawn-features=${enableToggles.join(",")}`, `disable-dawn-features=${disableToggles.join(",")}`];
log({ event: "start", dawn: DAWN, createFlags, node: process.version });
const gpu = create(createFlags);
const adapter = await withTimeout(gpu.requestAdapter({ powerPreference: "high-performance" }), 30000, "requestAdapter");
if (!adapter) {
  say("no adapter");
  process.exit(1);
}
const info = adapter.info;
const configs = [...(info.subgroupMatrixConfigs || [])].map((c) => ({
  componentType: c.componentType,
  resultComponentType: c.resultComponentType,
  M: c.M,
  N: c.N,
  K: c.K,
}));
log({
  event: "adapter",
  vendor: info.vendor,
  architecture: info.architecture,
  device: info.device,
  description: info.description,
  isFallbackAdapter: info.isFallbackAdapter,
  subgroupMinSize: info.subgroupMinSize,
  subgroupMaxSize: info.subgroupMaxSize,
});
const adapterFeatures = [...adapter.features].sort();
log({ event: "features", features: adapterFeatures });
const LIMIT_NAMES = [
  "maxComputeWorkgroupStorageSize", "maxComputeInvocationsPerWorkgroup", "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY", "maxComputeWorkgroupsPerDimension", "maxStorageBufferBindingSize", "maxBufferSize",
  "maxStorageBuffersPerShaderStage", "minSubgroupSize", "maxSubgroupSize",
];
const limits = {};
for (const n of LIMIT_NAMES) if (adapter.limits[n] !== undefined) limits[n] = adapter.limits[n];
log({ event: "limits", ...limits, subgroupMinSize: info.subgroupMinSize, subgroupMaxSize: info.subgroupMaxSize });
log({ event: "subgroup_matrix_configs", count: configs.length });
for (const c of configs) log({ event: "subgroup_matrix_config", ...c });

const wantFeatures = ["chromium-experimental-subgroup-matrix", "subgroups", "timestamp-query", "shader-f16"].filter((f) =>
  adapter.features.has(f),
);
const requiredLimits = {};
for (const n of ["maxComputeWorkgroupStorageSize", "maxComputeInvocationsPerWorkgroup", "maxStorageBufferBindingSize", "maxBufferSize", "maxComputeWorkgroupSizeX", "maxComputeWorkgroupSizeY"])
  if (adapter.limits[n] !== undefined) requiredLimits[n] = adapter.limits[n];
let device;
try {
  device = await withTimeout(adapter.requestDevice({ requiredFeatures: wantFeatures, requiredLimits }), 30000, "requestDevice");
} catch (e) {
  say(`requestDevice failed: ${e && e.message}`);
  process.exit(1);
}
log({ event: "device", requiredFeatures: wantFeatures, deviceFeatures: [...device.features].sort() });
device.lost.then((l) => say(`DEVICE LOST: reason=${l.reason} message=${l.message}`));
try {
  device.addEventListener("uncapturederror", (ev) => say(`UNCAPTURED ERROR: ${ev.error && ev.error.message}`));
} catch {
  try {
    device.onuncapturederror = (ev) => say(`UNCAPTURED ERROR: ${ev.error && ev.error.message}`);
  } catch {}
}
const HAS_TS = device.features.has("timestamp-query");
const HAS_SGM = device.features.has("chromium-experimental-subgroup-matrix");
const HAS_F16 = device.features.has("shader-f16");
const SGS = Number(opt("sgs", 0)) || info.subgroupMaxSize || 32; // --sgs: only for --compile-only printing
const queue = device.queue;

// ---------------------------------------------------------------------------------------------------------------
// Element types
const TYPES = {
  i8: { es: 1, sa: "i32", saBytes: 4 },
  u8: { es: 1, sa: "u32", saBytes: 4 },
  f16: { es: 2, sa: "f16", saBytes: 2 },
  f32: { es: 4, sa: "f32", saBytes: 4 },
  i32: { es: 4, sa: "i32", saBytes: 4 },
  u32: { es: 4, sa: "u32", saBytes: 4 },
};
const isFloat = (t) => t === "f16" || t === "f32";

// f32 -> f16 bits (round to nearest even) and back.
const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
function toHalf(v) {
  f32buf[0] = v;
  const x = u32buf[0];
  const sign = (x >>> 16) & 0x8000;
  let exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (((x >>> 23) & 0xff) === 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >>> shift;
    if ((mant >>> (shift - 1)) & 1 && ((mant & ((1 << (shift - 1)) - 1)) || h & 1)) h++;
    return sign | h;
  }
  let h = sign | (exp << 10) | (mant >>> 13);
  if (mant & 0x1000 && (mant & 0xfff || h & 1)) h++;
  return h;
}
function fromHalf(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

// Values: a signed/unsigned byte array of integer values (i8: -128..127, u8: 0..255, floats: -4..4), encoded into
// the bytes the GPU reads.
function makeValues(type, count) {
  const raw = new Uint8Array(count);
  randomFillSync(raw);
  if (type === "i8") return new Int8Array(raw.buffer);
  if (type === "u8") return raw;
  const v = new Int8Array(count);
  for (let i = 0; i < count; i++) v[i] = (raw[i] % 9) - 4;
  return v;
}
function encode(type, vals) {
  if (type === "i8" || type === "u8") return new Uint8Array(vals.buffer, vals.byteOffset, vals.byteLength);
  if (type === "f16") {
    const h = new Uint16Array(vals.length);
    for (let i = 0; i < vals.length; i++) h[i] = toHalf(vals[i]);
    return new Uint8Array(h.buffer);
  }
  if (type === "f32") return new Uint8Array(Float32Array.from(vals).buffer);
  if (type === "i32") return new Uint8Array(Int32Array.from(vals).buffer);
  if (type === "u32") return new Uint8Array(Uint32Array.from(vals).buffer);
  throw new Error(type);
}
function decodeResult(type, ab) {
  if (type === "i32") return new Int32Array(ab);
  if (type === "u32") return new Uint32Array(ab);
  if (type === "f32") return new Float32Array(ab);
  if (type === "f16") return Array.from(new Uint16Array(ab), fromHalf);
  throw new Error(type);
}

// ---------------------------------------------------------------------------------------------------------------
// Buffers and submission helpers
const align = (x, a) => Math.ceil(x / a) * a;
function makeBuffer(size, usage, bytes) {
  const b = device.createBuffer({ size: align(Math.max(size, 16), 16), usage, mappedAtCreation: !!bytes });
  if (bytes) {
    new Uint8Array(b.getMappedRange()).set(bytes);
    b.unmap();
  }
  return b;
}
async function readBuffer(src, size) {
  const rb = device.createBuffer({ size: align(size, 16), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, rb, 0, align(size, 16));
  queue.submit([enc.finish()]);
  await withTimeout(rb.mapAsync(GPUMapMode.READ), 60000, "mapAsync");
  const out = rb.getMappedRange().slice(0, size);
  rb.unmap();
  rb.destroy();
  return out;
}
async function done(what) {
  await withTimeout(queue.onSubmittedWorkDone(), 60000, what);
}

let printedFailingShader = 0;
async function makePipeline(code, label) {
  device.pushErrorScope("validation");
  device.pushErrorScope("internal");
  const module = device.createShaderModule({ code, label });
  const ci = await module.getCompilationInfo();
  const msgs = ci.messages.map((m) => `${m.type} ${m.lineNum}:${m.linePos}: ${m.message}`);
  let err = null;
  let pipeline = null;
  if (ci.messages.some((m) => m.type === "error")) err = msgs.join("\n");
  else {
    try {
      pipeline = await withTimeout(
        device.createComputePipelineAsync({ label, layout: "auto", compute: { module, entryPoint: "main" } }),
        60000,
        `pipeline ${label}`,
      );
    } catch (e) {
      err = `createComputePipelineAsync: ${e && e.message}`;
    }
  }
  const e1 = await device.popErrorScope();
  const e2 = await device.popErrorScope();
  for (const e of [e1, e2]) if (e) err = (err ? err + "\n" : "") + `error scope: ${e.message}`;
  if (msgs.length && !err) log({ event: "compile_messages", label, messages: msgs });
  if (err && code.includes("enable subgroups;\n") && /subgroups/.test(err)) {
    say(`retrying ${label} without 'enable subgroups;' after: ${err}`);
    return makePipeline(code.replace("enable subgroups;\n", ""), label);
  }
  if (err) {
    say(`SHADER/PIPELINE ERROR [${label}]:\n${err}`);
    if (printedFailingShader++ < 2) say(`---- failing WGSL [${label}] ----\n${code}\n---- end ----`);
    return { error: err };
  }
  return { pipeline };
}

function encodeDispatches(enc, pipeline, bindGroup, grid, reps, qs) {
  const desc = {};
  if (qs) desc.timestampWrites = { querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 };
  const pass = enc.beginComputePass(desc);
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  for (let r = 0; r < reps; r++) pass.dispatchWorkgroups(grid[0], grid[1], 1);
  pass.end();
}

let tsRes = null;
async function timeDispatches(pipeline, bindGroup, grid, label) {
  // warm-up, then an estimate, then TRIALS timed passes of `reps` dispatches each; best trial wins.
  let enc = device.createCommandEncoder();
  encodeDispatches(enc, pipeline, bindGroup, grid, 3);
  queue.submit([enc.finish()]);
  await done(`warm-up ${label}`);
  let t = performance.now();
  enc = device.createCommandEncoder();
  encodeDispatches(enc, pipeline, bindGroup, grid, 10);
  queue.submit([enc.finish()]);
  await done(`estimate ${label}`);
  const est = (performance.now() - t) / 10;
  const reps = Math.max(MIN_REPS, Math.min(5000, Math.ceil(TARGET_MS / Math.max(est, 1e-3))));
  if (HAS_TS && !tsRes) {
    tsRes = {
      qs: device.createQuerySet({ type: "timestamp", count: 2 }),
      resolve: device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
      read: device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
    };
  }
  let bestGpu = Infinity;
  let bestWall = Infinity;
  for (let trial = 0; trial < TRIALS; trial++) {
    enc = device.createCommandEncoder();
    encodeDispatches(enc, pipeline, bindGroup, grid, reps, tsRes && tsRes.qs);
    if (tsRes) {
      enc.resolveQuerySet(tsRes.qs, 0, 2, tsRes.resolve, 0);
      enc.copyBufferToBuffer(tsRes.resolve, 0, tsRes.read, 0, 16);
    }
    const cb = enc.finish();
    t = performance.now();
    queue.submit([cb]);
    await done(`trial ${label}`);
    const wall = (performance.now() - t) / reps;
    bestWall = Math.min(bestWall, wall);
    if (tsRes) {
      await withTimeout(tsRes.read.mapAsync(GPUMapMode.READ), 30000, "ts map");
      const ts = new BigUint64Array(tsRes.read.getMappedRange().slice(0));
      tsRes.read.unmap();
      const ns = Number(ts[1] - ts[0]);
      if (ns > 0) bestGpu = Math.min(bestGpu, ns / 1e6 / reps);
    }
  }
  return { reps, estMs: est, gpuMs: isFinite(bestGpu) ? bestGpu : null, wallMs: bestWall };
}

// ---------------------------------------------------------------------------------------------------------------
// WGSL generators
function headerFor(ct, rt) {
  let s = "";
  if (ct === "f16" || rt === "f16") s += "enable f16;\n";
  s += "enable subgroups;\nenable chromium_experimental_subgroup_matrix;\n";
  s += "diagnostic(off, chromium.subgroup_matrix_uniformity);\n";
  return s;
}

// A workgroup's tile: SGM × SGN subgroups, each TM × TN result matrices of M × N.
function tileGeometry(M, N, shape, v) {
  const { SGM, SGN, TM, TN } = v;
  return { SGM, SGN, TM, TN, NSG: SGM * SGN, BM: SGM * TM * M, BN: SGN * TN * N, KT: shape.K, NT: shape.N };
}

// Subgroup-matrix GEMM. A: MT×KT row-major (tokens × reduction); B stored as NT rows of KT (weights, i.e. the K×N
// right matrix column-major); C: MT×NT row-major in the result type. Offsets/strides in component elements.
// mode "direct": each subgroup loads its left/right matrices straight from storage.
// mode "shared": the workgroup stages BM×BK of A and BN×BK of B in workgroup memory (16-byte row padding),
//   copying with vec4<u32> loads; "prefetch" loads the next K slab into registers while computing the current one.
function mmaShader(cfg, shape, v) {
  const { componentType: ct, resultComponentType: rt, M, N, K } = cfg;
  const T = TYPES[ct];
  const R = TYPES[rt];
  const { SGM, SGN, TM, TN, NSG, BM, BN, KT, NT } = tileGeometry(M, N, shape, v);
  let s = headerFor(ct, rt);
  s += `alias LT = subgroup_matrix_left<${ct}, ${K}, ${M}>;\n`;
  s += `alias RM = subgroup_matrix_right<${ct}, ${N}, ${K}>;\n`;
  s += `alias AC = subgroup_matrix_result<${rt}, ${N}, ${M}>;\n`;
  s += `const KT = ${KT}u;\nconst NT = ${NT}u;\nconst BM = ${BM}u;\nconst BN = ${BN}u;\n`;
  const accDecl = [];
  const storeC = [];
  for (let i = 0; i < TM; i++)
    for (let j = 0; j < TN; j++) {
      accDecl.push(`  var c_${i}_${j} = AC();`);
      storeC.push(`  subgroupMatrixStore(&C, (r0 + ${i * M}u) * NT + c0 + ${j * N}u, c_${i}_${j}, false, NT);`);
    }
  const mma = (pfx) => {
    const out = [];
    for (let i = 0; i < TM; i++) for (let j = 0; j < TN; j++) out.push(`${pfx}c_${i}_${j} = subgroupMatrixMultiplyAccumulate(a_${i}, b_${j}, c_${i}_${j});`);
    return out.join("\n");
  };
  if (v.mode === "direct") {
    s += `@group(0) @binding(0) var<storage, read> A : array<${T.sa}>;\n`;
    s += `@group(0) @binding(1) var<storage, read> B : array<${T.sa}>;\n`;
    s += `@group(0) @binding(2) var<storage, read_write> C : array<${R.sa}>;\n`;
    s += `@compute @workgroup_size(${SGS}, ${NSG})\n`;
    s += `fn main(@builtin(workgroup_id) wg : vec3u, @builtin(local_invocation_id) lid : vec3u) {\n`;
    s += `  let sg = lid.y;\n  let r0 = wg.y * BM + (sg / ${SGN}u) * ${TM * M}u;\n  let c0 = wg.x * BN + (sg % ${SGN}u) * ${TN * N}u;\n`;
    s += accDecl.join("\n") + "\n";
    s += `  for (var k = 0u; k < KT; k += ${K}u) {\n`;
    for (let i = 0; i < TM; i++) s += `    let a_${i} = subgroupMatrixLoad<LT>(&A, (r0 + ${i * M}u) * KT + k, false, KT);\n`;
    for (let j = 0; j < TN; j++) s += `    let b_${j} = subgroupMatrixLoad<RM>(&B, (c0 + ${j * N}u) * KT + k, true, KT);\n`;
    s += mma("    ") + "\n  }\n";
    s += storeC.join("\n") + "\n}\n";
    return { code: s, grid: [NT / BN, shape.M / BM], wgThreads: SGS * NSG, binding: "scalar" };
  }
  // shared
  const es = T.es;
  const BK = Math.max(K, Math.round(v.BKB / es / K) * K); // elements per stage
  const padE = 16 / es;
  const ASTR = BK + padE; // shared row stride, elements
  const epsa = T.saBytes / es; // elements per shared array slot
  const rowV4 = (BK * es) / 16; // vec4<u32> per tile row per stage
  const strideW = (ASTR * es) / 4; // shared row stride in u32 words
  const KV4 = (KT * es) / 16; // vec4<u32> per global row
  const NTH = SGS * NSG;
  const AV4 = BM * rowV4;
  const BV4 = BN * rowV4;
  const shLenA = (BM * ASTR) / epsa;
  const shLenB = (BN * ASTR) / epsa;
  const prefetch = !!v.prefetch && AV4 % NTH === 0 && BV4 % NTH === 0;
  s += `const BK = ${BK}u;\nconst ASTR = ${ASTR}u;\nconst NTH = ${NTH}u;\nconst KV4 = ${KV4}u;\nconst ROWV4 = ${rowV4}u;\nconst SW = ${strideW}u;\n`;
  s += `@group(0) @binding(0) var<storage, read> A : array<vec4<u32>>;\n`;
  s += `@group(0) @binding(1) var<storage, read> B : array<vec4<u32>>;\n`;
  s += `@group(0) @binding(2) var<storage, read_write> C : array<${R.sa}>;\n`;
  s += `var<workgroup> As : array<${T.sa}, ${shLenA}>;\nvar<workgroup> Bs : array<${T.sa}, ${shLenB}>;\n`;
  // store 4 words of a vec4<u32> at shared word index w
  const storeFn = (name, arr) => {
    if (es === 2)
      return `fn ${name}(w : u32, v : vec4<u32>) {\n  let h0 = bitcast<vec2<f16>>(v.x); let h1 = bitcast<vec2<f16>>(v.y); let h2 = bitcast<vec2<f16>>(v.z); let h3 = bitcast<vec2<f16>>(v.w);\n  let e = 2u * w;\n  ${arr}[e] = h0.x; ${arr}[e + 1u] = h0.y; ${arr}[e + 2u] = h1.x; ${arr}[e + 3u] = h1.y;\n  ${arr}[e + 4u] = h2.x; ${arr}[e + 5u] = h2.y; ${arr}[e + 6u] = h3.x; ${arr}[e + 7u] = h3.y;\n}\n`;
    return `fn ${name}(w : u32, v : vec4<u32>) {\n  ${arr}[w] = bitcast<${T.sa}>(v.x); ${arr}[w + 1u] = bitcast<${T.sa}>(v.y); ${arr}[w + 2u] = bitcast<${T.sa}>(v.z); ${arr}[w + 3u] = bitcast<${T.sa}>(v.w);\n}\n`;
  };
  s += storeFn("stA", "As") + storeFn("stB", "Bs");
  s += `@compute @workgroup_size(${SGS}, ${NSG})\n`;
  s += `fn main(@builtin(workgroup_id) wg : vec3u, @builtin(local_invocation_id) lid : vec3u, @builtin(local_invocation_index) tid : u32) {\n`;
  s += `  let sg = lid.y;\n  let wr0 = wg.y * BM;\n  let wc0 = wg.x * BN;\n`;
  s += `  let lr0 = (sg / ${SGN}u) * ${TM * M}u;\n  let lc0 = (sg % ${SGN}u) * ${TN * N}u;\n  let r0 = wr0 + lr0;\n  let c0 = wc0 + lc0;\n`;
  s += accDecl.join("\n") + "\n";
  const compute = () => {
    let c = `    for (var kk = 0u; kk < BK; kk += ${K}u) {\n`;
    for (let i = 0; i < TM; i++) c += `      let a_${i} = subgroupMatrixLoad<LT>(&As, (lr0 + ${i * M}u) * ASTR + kk, false, ASTR);\n`;
    for (let j = 0; j < TN; j++) c += `      let b_${j} = subgroupMatrixLoad<RM>(&Bs, (lc0 + ${j * N}u) * ASTR + kk, true, ASTR);\n`;
    c += mma("      ") + "\n    }\n";
    return c;
  };
  if (!prefetch) {
    s += `  for (var kb = 0u; kb < KT; kb += BK) {\n`;
    s += `    let kb4 = kb * ${es}u / 16u;\n`;
    s += `    for (var i = tid; i < ${AV4}u; i += NTH) { let r = i / ROWV4; let q = i % ROWV4; stA(r * SW + q * 4u, A[(wr0 + r) * KV4 + kb4 + q]); }\n`;
    s += `    for (var i = tid; i < ${BV4}u; i += NTH) { let r = i / ROWV4; let q = i % ROWV4; stB(r * SW + q * 4u, B[(wc0 + r) * KV4 + kb4 + q]); }\n`;
    s += `    workgroupBarrier();\n`;
    s += compute();
    s += `    workgroupBarrier();\n  }\n`;
  } else {
    const na = AV4 / NTH;
    const nb = BV4 / NTH;
    for (let x = 0; x < na; x++) s += `  var pa${x} : vec4<u32>;\n`;
    for (let x = 0; x < nb; x++) s += `  var pb${x} : vec4<u32>;\n`;
    const loadRegs = (kbExpr) => {
      let c = `    let kb4 = (${kbExpr}) * ${es}u / 16u;\n`;
      for (let x = 0; x < na; x++) c += `    { let i = tid + ${x * NTH}u; let r = i / ROWV4; let q = i % ROWV4; pa${x} = A[(wr0 + r) * KV4 + kb4 + q]; }\n`;
      for (let x = 0; x < nb; x++) c += `    { let i = tid + ${x * NTH}u; let r = i / ROWV4; let q = i % ROWV4; pb${x} = B[(wc0 + r) * KV4 + kb4 + q]; }\n`;
      return c;
    };
    s += `  {\n${loadRegs("0u")}  }\n`;
    s += `  for (var kb = 0u; kb < KT; kb += BK) {\n`;
    s += `    workgroupBarrier();\n`;
    for (let x = 0; x < na; x++) s += `    { let i = tid + ${x * NTH}u; stA((i / ROWV4) * SW + (i % ROWV4) * 4u, pa${x}); }\n`;
    for (let x = 0; x < nb; x++) s += `    { let i = tid + ${x * NTH}u; stB((i / ROWV4) * SW + (i % ROWV4) * 4u, pb${x}); }\n`;
    s += `    workgroupBarrier();\n`;
    s += `    if (kb + BK < KT) {\n${loadRegs("kb + BK")}    }\n`;
    s += compute();
    s += `  }\n`;
  }
  s += storeC.join("\n") + "\n}\n";
  return {
    code: s,
    grid: [NT / BN, shape.M / BM],
    wgThreads: NTH,
    binding: "vec4",
    sharedBytes: (shLenA + shLenB) * T.saBytes,
    BK,
    prefetch,
  };
}

// Block-scaled variant, the shape a Q8_0 prefill kernel would take: per 32-wide K block, an int8 MMA into a zeroed
// i32 tile, the tile stored to per-subgroup workgroup scratch (WGSL gives no per-element access to a subgroup
// matrix), then each lane converts its share to f32 and accumulates it scaled by SA[m, kb] · SB[n, kb] in registers.
// C is f32. mode "direct" loads A/B matrices from storage; "shared" stages them as mmaShader does.
const QB = 32; // quantization block along K
function mmaBlockscaleShader(cfg, shape, v) {
  const { componentType: ct, resultComponentType: rt, M, N, K } = cfg;
  const T = TYPES[ct];
  const { SGM, SGN, TM, TN, NSG, BM, BN, KT, NT } = tileGeometry(M, N, shape, v);
  const KB = KT / QB;
  const SPB = QB / K; // MMA steps per block
  const EPL = (M * N) / SGS; // tile elements per lane
  const SCR = NSG * TM * TN * M * N; // scratch i32 elements
  let s = headerFor(ct, rt);
  s += `alias LT = subgroup_matrix_left<${ct}, ${K}, ${M}>;\nalias RM = subgroup_matrix_right<${ct}, ${N}, ${K}>;\nalias AC = subgroup_matrix_result<${rt}, ${N}, ${M}>;\n`;
  s += `const KT = ${KT}u;\nconst NT = ${NT}u;\nconst BM = ${BM}u;\nconst BN = ${BN}u;\nconst KB = ${KB}u;\n`;
  const shared = v.mode === "shared";
  const es = T.es;
  let BK = QB, ASTR = 0, rowV4 = 0, strideW = 0, KV4 = 0, NTH = SGS * NSG, AV4 = 0, BV4 = 0, shLenA = 0, shLenB = 0;
  if (shared) {
    BK = Math.max(QB, Math.round(v.BKB / es / QB) * QB);
    ASTR = BK + 16 / es;
    rowV4 = (BK * es) / 16;
    strideW = (ASTR * es) / 4;
    KV4 = (KT * es) / 16;
    AV4 = BM * rowV4;
    BV4 = BN * rowV4;
    const epsa = T.saBytes / es;
    shLenA = (BM * ASTR) / epsa;
    shLenB = (BN * ASTR) / epsa;
    s += `const BK = ${BK}u;\nconst ASTR = ${ASTR}u;\nconst NTH = ${NTH}u;\nconst KV4 = ${KV4}u;\nconst ROWV4 = ${rowV4}u;\nconst SW = ${strideW}u;\n`;
    s += `@group(0) @binding(0) var<storage, read> A : array<vec4<u32>>;\n@group(0) @binding(1) var<storage, read> B : array<vec4<u32>>;\n`;
    s += `var<workgroup> As : array<${T.sa}, ${shLenA}>;\nvar<workgroup> Bs : array<${T.sa}, ${shLenB}>;\n`;
    s += `fn stA(w : u32, v : vec4<u32>) { As[w] = bitcast<${T.sa}>(v.x); As[w + 1u] = bitcast<${T.sa}>(v.y); As[w + 2u] = bitcast<${T.sa}>(v.z); As[w + 3u] = bitcast<${T.sa}>(v.w); }\n`;
    s += `fn stB(w : u32, v : vec4<u32>) { Bs[w] = bitcast<${T.sa}>(v.x); Bs[w + 1u] = bitcast<${T.sa}>(v.y); Bs[w + 2u] = bitcast<${T.sa}>(v.z); Bs[w + 3u] = bitcast<${T.sa}>(v.w); }\n`;
  } else {
    s += `@group(0) @binding(0) var<storage, read> A : array<${T.sa}>;\n@group(0) @binding(1) var<storage, read> B : array<${T.sa}>;\n`;
  }
  s += `@group(0) @binding(2) var<storage, read_write> C : array<f32>;\n`;
  s += `@group(0) @binding(3) var<storage, read> SA : array<f32>;\n@group(0) @binding(4) var<storage, read> SB : array<f32>;\n`;
  s += `var<workgroup> scr : array<${TYPES[rt].sa}, ${SCR}>;\n`;
  s += `@compute @workgroup_size(${SGS}, ${NSG})\n`;
  s += `fn main(@builtin(workgroup_id) wg : vec3u, @builtin(local_invocation_id) lid : vec3u, @builtin(local_invocation_index) tid : u32) {\n`;
  s += `  let sg = lid.y;\n  let lane = lid.x;\n  let wr0 = wg.y * BM;\n  let wc0 = wg.x * BN;\n`;
  s += `  let lr0 = (sg / ${SGN}u) * ${TM * M}u;\n  let lc0 = (sg % ${SGN}u) * ${TN * N}u;\n  let r0 = wr0 + lr0;\n  let c0 = wc0 + lc0;\n`;
  s += `  let sbase = sg * ${TM * TN * M * N}u;\n`;
  // per-lane element coordinates within a tile: e = lane + t*SGS -> (e / N, e % N)
  for (let i = 0; i < TM; i++) for (let j = 0; j < TN; j++) for (let t = 0; t < EPL; t++) s += `  var f_${i}_${j}_${t} = 0.0f;\n`;
  const blockBody = (aExpr, bExpr, kbExpr, ind) => {
    let c = "";
    for (let i = 0; i < TM; i++) for (let j = 0; j < TN; j++) c += `${ind}var p_${i}_${j} = AC();\n`;
    for (let st = 0; st < SPB; st++) {
      c += `${ind}{\n`;
      for (let i = 0; i < TM; i++) c += `${ind}  let a_${i} = ${aExpr(i, st)};\n`;
      for (let j = 0; j < TN; j++) c += `${ind}  let b_${j} = ${bExpr(j, st)};\n`;
      for (let i = 0; i < TM; i++) for (let j = 0; j < TN; j++) c += `${ind}  p_${i}_${j} = subgroupMatrixMultiplyAccumulate(a_${i}, b_${j}, p_${i}_${j});\n`;
      c += `${ind}}\n`;
    }
    for (let i = 0; i < TM; i++) for (let j = 0; j < TN; j++) c += `${ind}subgroupMatrixStore(&scr, sbase + ${(i * TN + j) * M * N}u, p_${i}_${j}, false, ${N}u);\n`;
    c += `${ind}workgroupBarrier();\n`;
    c += `${ind}{\n${ind}  let kb = ${kbExpr};\n`;
    for (let i = 0; i < TM; i++)
      for (let t = 0; t < EPL; t++) c += `${ind}  let sa_${i}_${t} = SA[(r0 + ${i * M}u + (lane + ${t * SGS}u) / ${N}u) * KB + kb];\n`;
    for (let j = 0; j < TN; j++)
      for (let t = 0; t < EPL; t++) c += `${ind}  let sb_${j}_${t} = SB[(c0 + ${j * N}u + (lane + ${t * SGS}u) % ${N}u) * KB + kb];\n`;
    for (let i = 0; i < TM; i++)
      for (let j = 0; j < TN; j++)
        for (let t = 0; t < EPL; t++)
          c += `${ind}  f_${i}_${j}_${t} = fma(f32(scr[sbase + ${(i * TN + j) * M * N + t * SGS}u + lane]), sa_${i}_${t} * sb_${j}_${t}, f_${i}_${j}_${t});\n`;
    c += `${ind}}\n${ind}workgroupBarrier();\n`;
    return c;
  };
  if (!shared) {
    s += `  for (var k = 0u; k < KT; k += ${QB}u) {\n`;
    s += blockBody(
      (i, st) => `subgroupMatrixLoad<LT>(&A, (r0 + ${i * M}u) * KT + k + ${st * K}u, false, KT)`,
      (j, st) => `subgroupMatrixLoad<RM>(&B, (c0 + ${j * N}u) * KT + k + ${st * K}u, true, KT)`,
      `k / ${QB}u`,
      "    ",
    );
    s += `  }\n`;
  } else {
    s += `  for (var kb0 = 0u; kb0 < KT; kb0 += BK) {\n`;
    s += `    let kb4 = kb0 * ${es}u / 16u;\n`;
    s += `    for (var i = tid; i < ${AV4}u; i += NTH) { let r = i / ROWV4; let q = i % ROWV4; stA(r * SW + q * 4u, A[(wr0 + r) * KV4 + kb4 + q]); }\n`;
    s += `    for (var i = tid; i < ${BV4}u; i += NTH) { let r = i / ROWV4; let q = i % ROWV4; stB(r * SW + q * 4u, B[(wc0 + r) * KV4 + kb4 + q]); }\n`;
    s += `    workgroupBarrier();\n`;
    s += `    for (var kk = 0u; kk < BK; kk += ${QB}u) {\n`;
    s += blockBody(
      (i, st) => `subgroupMatrixLoad<LT>(&As, (lr0 + ${i * M}u) * ASTR + kk + ${st * K}u, false, ASTR)`,
      (j, st) => `subgroupMatrixLoad<RM>(&Bs, (lc0 + ${j * N}u) * ASTR + kk + ${st * K}u, true, ASTR)`,
      `(kb0 + kk) / ${QB}u`,
      "      ",
    );
    s += `    }\n  }\n`;
  }
  for (let i = 0; i < TM; i++)
    for (let j = 0; j < TN; j++)
      for (let t = 0; t < EPL; t++)
        s += `  C[(r0 + ${i * M}u + (lane + ${t * SGS}u) / ${N}u) * NT + c0 + ${j * N}u + (lane + ${t * SGS}u) % ${N}u] = f_${i}_${j}_${t};\n`;
  s += `}\n`;
  const sharedBytes = SCR * 4 + (shLenA + shLenB) * T.saBytes;
  return { code: s, grid: [NT / BN, shape.M / BM], wgThreads: NTH, sharedBytes, BK, prefetch: false };
}

// --emulate-mma: one thread per output, same bindings and output as the i8 matrix kernels (for checking the JS
// harness on an adapter without subgroup matrices).
function emulatedShader(shape, v) {
  const KW = shape.K / 4;
  let s = `@group(0) @binding(0) var<storage, read> A : array<u32>;\n@group(0) @binding(1) var<storage, read> B : array<u32>;\n`;
  s += v.blockscale
    ? `@group(0) @binding(2) var<storage, read_write> C : array<f32>;\n@group(0) @binding(3) var<storage, read> SA : array<f32>;\n@group(0) @binding(4) var<storage, read> SB : array<f32>;\n`
    : `@group(0) @binding(2) var<storage, read_write> C : array<i32>;\n`;
  s += `@compute @workgroup_size(16, 16)\nfn main(@builtin(global_invocation_id) g : vec3u) {\n  let m = g.y; let n = g.x;\n`;
  if (v.blockscale) {
    s += `  var f = 0.0f;\n  for (var kb = 0u; kb < ${KW / 8}u; kb++) { var acc = 0i;\n    for (var w = kb * 8u; w < kb * 8u + 8u; w++) { acc += dot4I8Packed(A[m * ${KW}u + w], B[n * ${KW}u + w]); }\n`;
    s += `    f = fma(f32(acc), SA[m * ${KW / 8}u + kb] * SB[n * ${KW / 8}u + kb], f); }\n  C[m * ${shape.N}u + n] = f;\n}\n`;
  } else {
    s += `  var acc = 0i;\n  for (var w = 0u; w < ${KW}u; w++) { acc += dot4I8Packed(A[m * ${KW}u + w], B[n * ${KW}u + w]); }\n  C[m * ${shape.N}u + n] = acc;\n}\n`;
  }
  return { code: s, grid: [shape.N / 16, shape.M / 16], wgThreads: 256, sharedBytes: 0 };
}

// ALU kernel: int8 × int8 → i32 with dot4I8Packed, 16×16 threads, each TMa×TNa outputs (rows lid.y + 16 i,
// columns lid.x + 16 j), K staged 64 bytes at a time in workgroup memory (k-major, so the inner loop reads
// broadcast/conflict-free).
function aluShader(shape, v) {
  const { TMa, TNa } = v;
  const BM = 16 * TMa;
  const BN = 16 * TNa;
  const KW = shape.K / 4;
  let s = `const KW = ${KW}u;\nconst NT = ${shape.N}u;\nconst BM = ${BM}u;\nconst BN = ${BN}u;\nconst BKW = 16u;\n`;
  s += `@group(0) @binding(0) var<storage, read> A : array<vec4<u32>>;\n`;
  s += `@group(0) @binding(1) var<storage, read> B : array<vec4<u32>>;\n`;
  s += `@group(0) @binding(2) var<storage, read_write> C : array<i32>;\n`;
  s += `var<workgroup> As : array<u32, ${16 * BM}>;\nvar<workgroup> Bs : array<u32, ${16 * BN}>;\n`;
  s += `@compute @workgroup_size(16, 16)\nfn main(@builtin(workgroup_id) wg : vec3u, @builtin(local_invocation_id) lid : vec3u, @builtin(local_invocation_index) tid : u32) {\n`;
  s += `  let r0 = wg.y * BM;\n  let c0 = wg.x * BN;\n`;
  for (let i = 0; i < TMa; i++) for (let j = 0; j < TNa; j++) s += `  var acc_${i}_${j} = 0i;\n`;
  s += `  for (var kb = 0u; kb < KW; kb += BKW) {\n`;
  s += `    for (var i = tid; i < BM * 4u; i += 256u) { let r = i / 4u; let q = i % 4u; let v = A[((r0 + r) * KW + kb) / 4u + q];\n`;
  s += `      As[(q * 4u) * BM + r] = v.x; As[(q * 4u + 1u) * BM + r] = v.y; As[(q * 4u + 2u) * BM + r] = v.z; As[(q * 4u + 3u) * BM + r] = v.w; }\n`;
  s += `    for (var i = tid; i < BN * 4u; i += 256u) { let r = i / 4u; let q = i % 4u; let v = B[((c0 + r) * KW + kb) / 4u + q];\n`;
  s += `      Bs[(q * 4u) * BN + r] = v.x; Bs[(q * 4u + 1u) * BN + r] = v.y; Bs[(q * 4u + 2u) * BN + r] = v.z; Bs[(q * 4u + 3u) * BN + r] = v.w; }\n`;
  s += `    workgroupBarrier();\n    for (var kk = 0u; kk < BKW; kk++) {\n`;
  for (let i = 0; i < TMa; i++) s += `      let a_${i} = As[kk * BM + lid.y + ${16 * i}u];\n`;
  for (let j = 0; j < TNa; j++) s += `      let b_${j} = Bs[kk * BN + lid.x + ${16 * j}u];\n`;
  for (let i = 0; i < TMa; i++) for (let j = 0; j < TNa; j++) s += `      acc_${i}_${j} += dot4I8Packed(a_${i}, b_${j});\n`;
  s += `    }\n    workgroupBarrier();\n  }\n`;
  for (let i = 0; i < TMa; i++)
    for (let j = 0; j < TNa; j++) s += `  C[(r0 + lid.y + ${16 * i}u) * NT + c0 + lid.x + ${16 * j}u] = acc_${i}_${j};\n`;
  s += `}\n`;
  return { code: s, grid: [shape.N / BN, shape.M / BM], wgThreads: 256 };
}

// ---------------------------------------------------------------------------------------------------------------
// Data sets: per (component type, shape) A/B values and GPU buffers, and a C buffer per (result type, shape).
const dataCache = new Map();
function dataFor(ct, shape) {
  const key = `${ct}:${shape.M}x${shape.N}x${shape.K}`;
  if (dataCache.has(key)) return dataCache.get(key);
  const a = makeValues(ct, shape.M * shape.K);
  const b = makeValues(ct, shape.N * shape.K);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
  const d = { a, b, A: makeBuffer(a.length * TYPES[ct].es, usage, encode(ct, a)), B: makeBuffer(b.length * TYPES[ct].es, usage, encode(ct, b)) };
  dataCache.set(key, d);
  return d;
}
const cCache = new Map();
function outFor(rt, shape) {
  const key = `${rt}:${shape.M}x${shape.N}`;
  if (!cCache.has(key)) cCache.set(key, makeBuffer(shape.M * shape.N * TYPES[rt].es, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST));
  return cCache.get(key);
}
function refDot(d, shape, m, n) {
  let s = 0;
  const ao = m * shape.K;
  const bo = n * shape.K;
  for (let k = 0; k < shape.K; k++) s += d.a[ao + k] * d.b[bo + k];
  return s;
}
// Compare the GPU's C against the reference: every entry when `all`, else `samples` random entries.
async function check(rt, shape, d, C, all, samples = 2048) {
  const got = decodeResult(rt, await readBuffer(C, shape.M * shape.N * TYPES[rt].es));
  let bad = 0;
  let first = null;
  const n = all ? shape.M * shape.N : samples;
  for (let t = 0; t < n; t++) {
    const idx = all ? t : Math.floor(Math.random() * shape.M * shape.N);
    const m = Math.floor(idx / shape.N);
    const c = idx % shape.N;
    let exp = refDot(d, shape, m, c);
    if (rt === "u32") exp = exp >>> 0;
    else if (rt === "i32") exp = exp | 0;
    const g = got[idx];
    const ok = rt === "f16" ? Math.abs(g - exp) <= Math.max(1, Math.abs(exp) * 2e-3) : g === exp;
    if (!ok) {
      bad++;
      if (!first) first = { m, n: c, got: g, expected: exp };
    }
  }
  return { checked: n, bad, first };
}
async function zeroC(C, bytes) {
  const enc = device.createCommandEncoder();
  enc.clearBuffer(C, 0, align(bytes, 16));
  queue.submit([enc.finish()]);
  await done("clear");
}

// Per-(row, 32-block) f32 scales for the block-scaled kernels: SA[m][kb], SB[n][kb], in [0.5, 1.5) / 128.
const scaleCache = new Map();
function scalesFor(shape) {
  const key = shapeName(shape);
  if (scaleCache.has(key)) return scaleCache.get(key);
  const KB = shape.K / QB;
  const sa = new Float32Array(shape.M * KB).map(() => (0.5 + Math.random()) / 128);
  const sb = new Float32Array(shape.N * KB).map(() => (0.5 + Math.random()) / 128);
  const usage = GPUBufferUsage.STORAGE;
  const r = { sa, sb, KB, SA: makeBuffer(sa.byteLength, usage, new Uint8Array(sa.buffer)), SB: makeBuffer(sb.byteLength, usage, new Uint8Array(sb.buffer)) };
  scaleCache.set(key, r);
  return r;
}
async function checkScaled(shape, d, sc, C, all, samples = 2048) {
  const got = new Float32Array(await readBuffer(C, shape.M * shape.N * 4));
  let bad = 0;
  let first = null;
  let maxRel = 0;
  const n = all ? shape.M * shape.N : samples;
  for (let t = 0; t < n; t++) {
    const idx = all ? t : Math.floor(Math.random() * shape.M * shape.N);
    const m = Math.floor(idx / shape.N);
    const c = idx % shape.N;
    let exp = 0;
    let mag = 0;
    for (let kb = 0; kb < sc.KB; kb++) {
      let bs = 0;
      let ba = 0;
      for (let k = kb * QB; k < (kb + 1) * QB; k++) {
        const pr = d.a[m * shape.K + k] * d.b[c * shape.K + k];
        bs += pr;
        ba += Math.abs(pr);
      }
      const w = sc.sa[m * sc.KB + kb] * sc.sb[c * sc.KB + kb];
      exp += bs * w;
      mag += ba * w;
    }
    const err = Math.abs(got[idx] - exp);
    maxRel = Math.max(maxRel, err / Math.max(mag, 1e-30));
    if (!(err <= 2e-5 * mag + 1e-6)) {
      bad++;
      if (!first) first = { m, n: c, got: got[idx], expected: exp };
    }
  }
  return { checked: n, bad, first, maxRelToMagnitude: maxRel };
}

const cfgName = (c) => `${c.componentType}->${c.resultComponentType} ${c.M}x${c.N}x${c.K}`;
const shapeName = (s) => `${s.M}x${s.N}x${s.K}`;

// ---------------------------------------------------------------------------------------------------------------
// Correctness: a 64×64×128 matmul per configuration with three small tilings, every entry compared.
const SMALL = { M: 64, N: 64, K: 128 };
const SMALL_VARIANTS = [
  { name: "direct_1sg_1x1t", mode: "direct", SGM: 1, SGN: 1, TM: 1, TN: 1 },
  { name: "direct_2x2sg_1x2t", mode: "direct", SGM: 2, SGN: 2, TM: 1, TN: 2 },
  { name: "shared_2x2sg_1x1t_k64", mode: "shared", SGM: 2, SGN: 2, TM: 1, TN: 1, BKB: 64 },
];
const MMA_VARIANTS = [
  { name: "direct_2x2sg_2x2t", mode: "direct", SGM: 2, SGN: 2, TM: 2, TN: 2 },
  { name: "direct_2x2sg_2x4t", mode: "direct", SGM: 2, SGN: 2, TM: 2, TN: 4 },
  { name: "direct_1x4sg_4x2t", mode: "direct", SGM: 1, SGN: 4, TM: 4, TN: 2 },
  { name: "shared_2x2sg_2x2t_k64", mode: "shared", SGM: 2, SGN: 2, TM: 2, TN: 2, BKB: 64 },
  { name: "shared_2x2sg_2x4t_k64", mode: "shared", SGM: 2, SGN: 2, TM: 2, TN: 4, BKB: 64 },
  { name: "shared_2x4sg_2x2t_k64", mode: "shared", SGM: 2, SGN: 4, TM: 2, TN: 2, BKB: 64 },
  { name: "shared_2x2sg_2x4t_k128_pf", mode: "shared", SGM: 2, SGN: 2, TM: 2, TN: 4, BKB: 128, prefetch: true },
  { name: "shared_4x2sg_2x4t_k64_pf", mode: "shared", SGM: 4, SGN: 2, TM: 2, TN: 4, BKB: 64, prefetch: true },
];
// Block-scaled (Q8_0-like) kernels: 2·M·N·K counted as the useful work, as for the others.
const BLOCKSCALE_VARIANTS = [
  { name: "bs_direct_2x2sg_2x2t", mode: "direct", SGM: 2, SGN: 2, TM: 2, TN: 2, blockscale: true },
  { name: "bs_direct_2x2sg_2x4t", mode: "direct", SGM: 2, SGN: 2, TM: 2, TN: 4, blockscale: true },
  { name: "bs_shared_2x2sg_2x2t_k64", mode: "shared", SGM: 2, SGN: 2, TM: 2, TN: 2, BKB: 64, blockscale: true },
];
const REDUCED_VARIANTS = ["direct_2x2sg_2x4t", "shared_2x2sg_2x4t_k64", "shared_2x2sg_2x4t_k128_pf"];
const ALU_VARIANTS = [
  { name: "alu_dot4I8Packed_4x4", TMa: 4, TNa: 4 },
  { name: "alu_dot4I8Packed_8x8", TMa: 8, TNa: 8 },
];

function fits(cfg, shape, v) {
  const BM = v.SGM * v.TM * cfg.M;
  const BN = v.SGN * v.TN * cfg.N;
  return shape.M % BM === 0 && shape.N % BN === 0 && shape.K % cfg.K === 0;
}

async function runMma(cfg, shape, v, { timed, all }) {
  const label = `${v.name} [${cfgName(cfg)}] ${shapeName(shape)}`;
  if (!fits(cfg, shape, v)) {
    log({ event: "skip", label, reason: "tile does not divide shape" });
    return null;
  }
  const sh = EMULATE ? emulatedShader(shape, v) : v.blockscale ? mmaBlockscaleShader(cfg, shape, v) : mmaShader(cfg, shape, v);
  if (sh.sharedBytes && sh.sharedBytes > (device.limits.maxComputeWorkgroupStorageSize || 16384)) {
    log({ event: "skip", label, reason: `workgroup storage ${sh.sharedBytes} B over limit` });
    return null;
  }
  const p = await makePipeline(sh.code, label);
  if (p.error) {
    log({ event: "pipeline_error", label, error: p.error });
    summary.push({ kind: "mma", label, error: p.error.split("\n")[0] });
    return null;
  }
  const d = dataFor(cfg.componentType, shape);
  const outType = v.blockscale ? "f32" : cfg.resultComponentType;
  const C = outFor(outType, shape);
  await zeroC(C, shape.M * shape.N * TYPES[outType].es);
  const entries = [
    { binding: 0, resource: { buffer: d.A } },
    { binding: 1, resource: { buffer: d.B } },
    { binding: 2, resource: { buffer: C } },
  ];
  if (v.blockscale) {
    const sc = scalesFor(shape);
    entries.push({ binding: 3, resource: { buffer: sc.SA } }, { binding: 4, resource: { buffer: sc.SB } });
  }
  const bg = device.createBindGroup({ layout: p.pipeline.getBindGroupLayout(0), entries });
  let timing = null;
  if (timed) timing = await timeDispatches(p.pipeline, bg, sh.grid, label);
  else {
    const enc = device.createCommandEncoder();
    encodeDispatches(enc, p.pipeline, bg, sh.grid, 1);
    queue.submit([enc.finish()]);
    await done(label);
  }
  const chk = v.blockscale ? await checkScaled(shape, d, scalesFor(shape), C, all) : await check(cfg.resultComponentType, shape, d, C, all);
  const ops = 2 * shape.M * shape.N * shape.K;
  const rec = {
    event: timed ? "bench" : "correctness",
    kernel: "subgroup_matrix",
    variant: v.name,
    config: cfgName(cfg),
    shape: shapeName(shape),
    grid: sh.grid,
    wgThreads: sh.wgThreads,
    sharedBytes: sh.sharedBytes || 0,
    BK: sh.BK,
    prefetch: sh.prefetch,
    check: chk,
    pass: chk.bad === 0,
  };
  if (timing) {
    Object.assign(rec, timing);
    rec.topsGpu = timing.gpuMs ? +(ops / (timing.gpuMs * 1e-3) / 1e12).toPrecision(4) : null;
    rec.topsWall = +(ops / (timing.wallMs * 1e-3) / 1e12).toPrecision(4);
  }
  log(rec);
  summary.push({ kind: timed ? "bench" : "correct", label, pass: rec.pass, bad: chk.bad, checked: chk.checked, gpuMs: rec.gpuMs, wallMs: rec.wallMs, topsGpu: rec.topsGpu, topsWall: rec.topsWall });
  return rec;
}

async function runAlu(shape, v) {
  const label = `${v.name} [i8 ALU] ${shapeName(shape)}`;
  const sh = aluShader(shape, v);
  if (shape.M % (16 * v.TMa) || shape.N % (16 * v.TNa) || shape.K % 64) {
    log({ event: "skip", label, reason: "tile does not divide shape" });
    return null;
  }
  const p = await makePipeline(sh.code, label);
  if (p.error) {
    summary.push({ kind: "alu", label, error: p.error.split("\n")[0] });
    return null;
  }
  const d = dataFor("i8", shape);
  const C = outFor("i32", shape);
  await zeroC(C, shape.M * shape.N * 4);
  const bg = device.createBindGroup({
    layout: p.pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: d.A } },
      { binding: 1, resource: { buffer: d.B } },
      { binding: 2, resource: { buffer: C } },
    ],
  });
  const timing = await timeDispatches(p.pipeline, bg, sh.grid, label);
  const chk = await check("i32", shape, d, C, false);
  const ops = 2 * shape.M * shape.N * shape.K;
  const rec = { event: "bench", kernel: "alu_dot4I8Packed", variant: v.name, shape: shapeName(shape), grid: sh.grid, check: chk, pass: chk.bad === 0, ...timing };
  rec.topsGpu = timing.gpuMs ? +(ops / (timing.gpuMs * 1e-3) / 1e12).toPrecision(4) : null;
  rec.topsWall = +(ops / (timing.wallMs * 1e-3) / 1e12).toPrecision(4);
  log(rec);
  summary.push({ kind: "bench", label, pass: rec.pass, bad: chk.bad, checked: chk.checked, gpuMs: rec.gpuMs, wallMs: rec.wallMs, topsGpu: rec.topsGpu, topsWall: rec.topsWall });
  return rec;
}

function printSummary() {
  say("\n==== SUMMARY ====");
  say(`adapter: ${info.vendor} / ${info.architecture} / ${info.device} / ${info.description}; subgroup ${info.subgroupMinSize}..${info.subgroupMaxSize}`);
  say(`toggles on: ${enableToggles.join(",")}; off: ${disableToggles.join(",")}`);
  say(`shader-f16: ${adapter.features.has("shader-f16")}; subgroup-matrix feature: ${adapter.features.has("chromium-experimental-subgroup-matrix")}; timestamp-query: ${adapter.features.has("timestamp-query")}`);
  say(`subgroup-matrix configs (${configs.length}): ${configs.map(cfgName).join("; ") || "none"}`);
  for (const r of summary) {
    if (r.error) say(`ERROR  ${r.label}: ${r.error}`);
    else if (r.kind === "correct") say(`CHECK  ${r.pass ? "PASS" : "FAIL"}  ${r.label}  (${r.checked - r.bad}/${r.checked} exact)`);
    else
      say(`BENCH  ${r.label}: gpu ${r.gpuMs ? r.gpuMs.toFixed(4) : "-"} ms (${r.topsGpu ?? "-"} TOPS), wall ${r.wallMs.toFixed(4)} ms (${r.topsWall} TOPS), check ${r.pass ? "ok" : `FAIL ${r.bad}/${r.checked}`}`);
  }
  say(`elapsed ${elapsed().toFixed(1)} s`);
}

// ---------------------------------------------------------------------------------------------------------------
const wantType = (t) => (ONLY ? ONLY.includes(t) : true);
const wantVariant = (n) => (VARIANT_FILTER ? VARIANT_FILTER.some((f) => n.includes(f)) : true);
const timeLeft = () => TIME_LIMIT_S - elapsed();

const EMULATE = flag("emulate-mma"); // harness self-test without matrices: scalar stand-ins for the matrix kernels
const usable = EMULATE
  ? [{ componentType: "i8", resultComponentType: "i32", M: 16, N: 16, K: 32 }]
  : HAS_SGM
    ? configs.filter((c) => wantType(c.componentType) && (c.componentType !== "f16" && c.resultComponentType !== "f16" ? true : HAS_F16))
    : [];
if (!HAS_SGM) say("subgroup-matrix feature not available on this device: matrix kernels skipped");
// --compile-only CT,RT,M,N,K: compile (not run) every matrix kernel for a made-up configuration and print the
// compiler's messages; a local check of the WGSL generator on an adapter without matrices.
if (opt("compile-only", "")) {
  const [ct, rt, M, N, K] = opt("compile-only", "").split(",");
  const cfg = { componentType: ct, resultComponentType: rt, M: +M, N: +N, K: +K };
  for (const shape of [SMALL, ...SHAPES])
    for (const v of [...SMALL_VARIANTS, ...MMA_VARIANTS, ...BLOCKSCALE_VARIANTS]) {
      if (!fits(cfg, shape, v)) continue;
      const sh = v.blockscale ? mmaBlockscaleShader(cfg, shape, v) : mmaShader(cfg, shape, v);
      const module = device.createShaderModule({ code: sh.code });
      const ci = await module.getCompilationInfo();
      say(`compile-only ${v.name} ${cfgName(cfg)} ${shapeName(shape)}: ` + (ci.messages.map((m) => `${m.type} ${m.lineNum}:${m.linePos}: ${m.message}`).join(" | ") || "no messages"));
      if (flag("print-wgsl")) say(sh.code);
    }
  process.exit(0);
}

if (RUN_MMA) {
  for (const cfg of usable) {
    for (const v of SMALL_VARIANTS) {
      if (timeLeft() < 15) break;
      try {
        await runMma(cfg, SMALL, v, { timed: false, all: true });
      } catch (e) {
        say(`ERROR correctness ${v.name} ${cfgName(cfg)}: ${e && e.stack}`);
      }
    }
  }
}

const RUN_BS = !flag("no-blockscale");
const bsConfigs = usable.filter((c) => c.componentType === "i8" && c.resultComponentType === "i32" && QB % c.K === 0);
if (RUN_MMA && RUN_BS)
  for (const cfg of bsConfigs)
    for (const v of BLOCKSCALE_VARIANTS.slice(0, 1).concat(BLOCKSCALE_VARIANTS.slice(2))) {
      if (timeLeft() < 15) break;
      try {
        await runMma(cfg, SMALL, v, { timed: false, all: true });
      } catch (e) {
        say(`ERROR correctness ${v.name} ${cfgName(cfg)}: ${e && e.stack}`);
      }
    }

if (RUN_ALU && wantType("i8")) {
  for (const shape of SHAPES)
    for (const v of ALU_VARIANTS) {
      if (!wantVariant(v.name) && VARIANT_FILTER && !VARIANT_FILTER.includes("alu")) continue;
      if (timeLeft() < 15) break;
      try {
        await runAlu(shape, v);
      } catch (e) {
        say(`ERROR alu ${v.name}: ${e && e.stack}`);
      }
    }
}

if (RUN_MMA) {
  // Order: integer configs first (the question at hand), then the rest; among same component types, every
  // distinct M/N/K gets the full variant list for the first config of each type and the full list for others too
  // while time allows.
  const rank = (c) => ({ i8: 0, u8: 1, f16: 2, f32: 3 })[c.componentType] ?? 4;
  const ordered = [...usable].sort((a, b) => rank(a) - rank(b));
  for (const cfg of ordered) {
    let failures = 0;
    for (const shape of SHAPES)
      for (const v of MMA_VARIANTS) {
        if (!wantVariant(v.name)) continue;
        if (!FULL.includes(`${cfg.componentType}->${cfg.resultComponentType}`) && !REDUCED_VARIANTS.includes(v.name)) continue;
        if (timeLeft() < 15) {
          say(`time budget nearly spent: skipping ${v.name} ${cfgName(cfg)} ${shapeName(shape)}`);
          continue;
        }
        if (failures >= 3) {
          say(`skipping ${v.name} ${cfgName(cfg)} ${shapeName(shape)}: 3 failed pipelines for this configuration`);
          continue;
        }
        try {
          const r = await runMma(cfg, shape, v, { timed: true, all: false });
          if (!r && fits(cfg, shape, v)) failures++;
        } catch (e) {
          say(`ERROR bench ${v.name} ${cfgName(cfg)} ${shapeName(shape)}: ${e && e.stack}`);
        }
      }
  }
}

if (RUN_MMA && RUN_BS) {
  for (const cfg of bsConfigs.slice(0, 2))
    for (const shape of SHAPES)
      for (const v of BLOCKSCALE_VARIANTS) {
        if (!wantVariant(v.name)) continue;
        if (timeLeft() < 15) {
          say(`time budget nearly spent: skipping ${v.name} ${cfgName(cfg)} ${shapeName(shape)}`);
          continue;
        }
        try {
          await runMma(cfg, shape, v, { timed: true, all: false });
        } catch (e) {
          say(`ERROR bench ${v.name} ${cfgName(cfg)} ${shapeName(shape)}: ${e && e.stack}`);
        }
      }
}

printSummary();
clearTimeout(watchdog);
device.destroy();
process.exit(0);
