// The chat page: pick the bundled model or a local GGUF, stage it in OPFS (shown with progress), then chat
// with streaming output; the backend and tok/s are shown. URL parameters (used by the tests, handy for
// debugging): model=URL, artifact=auto|threads|single, backend=auto|cpu|webgpu, shardThreshold=, shardSize=,
// maxTokens=, autoload=1.
import { Hearth } from "../src/index.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const numberParam = (k) => (params.has(k) ? Number(params.get(k)) : undefined);

// What the tests read: the page's state and every streamed piece of the last answer.
const state = (window.hearthDemo = { status: "starting", error: null, runtime: null, model: null, pieces: [], result: null, progress: [] });

function setStatus(status, text) {
  state.status = status;
  document.body.dataset.status = status;
  if (text !== undefined) $("runtime").textContent = text;
}

function fail(e) {
  state.error = e.message || String(e);
  setStatus("error");
  const div = document.createElement("div");
  div.className = "msg error";
  div.textContent = state.error;
  $("chat").append(div);
}

function showProgress(p) {
  state.progress.push({ phase: p.phase, loaded: p.loaded, total: p.total });
  const f = p.total ? p.loaded / p.total : 0;
  $("progress").value = f;
  $("progress-text").textContent = p.phase === "download"
    ? `downloading to browser storage: ${(p.loaded / 1048576).toFixed(1)}${p.total ? " / " + (p.total / 1048576).toFixed(1) : ""} MiB`
    : `loading weights: ${Math.round(f * 100)}%`;
}

// "backend webgpu (...) · WebGPU adapter: google swiftshader" — what runs and what the browser offers.
function runtimeText(r) {
  const w = r.webgpu;
  const gpu = w.available
    ? `WebGPU adapter: ${[w.vendor || "?", w.architecture, w.description].filter(Boolean).join(" ")}${w.shaderF16 ? " (shader-f16)" : " (f32 kernels)"}`
    : `no WebGPU (${w.reason})`;
  const where = r.artifact === "threads" ? `${r.threads} threads` : r.artifact === "webgpu" ? "webgpu build" : "1 thread";
  return `backend ${r.backend} (${where}, ${r.simd}) · ${gpu} · ${r.backendReason}`;
}

let hearth = null;
let history = [];
let controller = null;

async function start() {
  try {
    hearth = await Hearth.create({ artifact: params.get("artifact") || "auto", backend: params.get("backend") || "auto" });
    state.runtime = hearth.runtime;
    setStatus("ready", runtimeText(hearth.runtime));
    $("load").disabled = false;
    if (params.get("autoload") === "1") await load();
  } catch (e) {
    fail(e);
  }
}

async function load() {
  $("load").disabled = true;
  setStatus("loading");
  try {
    const source = $("model-source").value === "file" && $("model-file").files[0]
      ? { file: $("model-file").files[0] }
      : { url: params.get("model") || "/models/default.gguf" };
    const model = (state.model = await hearth.loadModel({
      ...source,
      onProgress: showProgress,
      shardThreshold: numberParam("shardThreshold"),
      shardSize: numberParam("shardSize"),
    }));
    state.runtime = hearth.runtime;
    $("runtime").textContent = runtimeText(hearth.runtime);
    $("progress").value = 1;
    $("progress-text").textContent = model.cached ? "loaded from browser storage (no download)" : "downloaded and stored for next time";
    if (model.embeddingOnly) $("model-info").textContent = `${model.arch} embedding model · ${model.nEmbd} dimensions · ${model.pooling} pooling`;
    else $("model-info").textContent = `${model.name || model.arch} · ${model.arch} · ${(model.nParams / 1e6).toFixed(1)} M params · ` +
      `${(model.size / 1048576).toFixed(1)} MiB in ${model.shards} shard${model.shards > 1 ? "s" : ""} · context ${model.nCtx}` +
      ` · loaded in ${model.loadSeconds.toFixed(2)} s`;
    history = [];
    const canChat = !model.embeddingOnly;
    $("prompt").disabled = !canChat;
    $("send").disabled = !canChat;
    if (!canChat) $("prompt").placeholder = "this model computes embeddings only";
    setStatus("loaded");
    enableOffline();
  } catch (e) {
    $("load").disabled = false;
    fail(e);
  }
}

async function send(text) {
  const user = document.createElement("div");
  user.className = "msg user";
  user.textContent = text;
  const answer = document.createElement("div");
  answer.className = "msg assistant";
  $("chat").append(user, answer);
  history.push({ role: "user", content: text });
  state.pieces = [];
  state.result = null;
  controller = new AbortController();
  $("send").disabled = true;
  $("stop").disabled = false;
  setStatus("generating");
  const request = {
    maxTokens: numberParam("maxTokens") ?? 128,
    temperature: params.has("temperature") ? Number(params.get("temperature")) : 0,
    signal: controller.signal,
  };
  try {
    const run = state.model.hasChatTemplate ? hearth.chat({ ...request, messages: history }) : hearth.query({ ...request, prompt: text });
    for await (const piece of run) {
      state.pieces.push(piece.text);
      answer.textContent += piece.text;
      $("chat").scrollTop = $("chat").scrollHeight;
    }
    const r = (state.result = await run.result);
    history.push({ role: "assistant", content: r.text });
    const u = r.usage;
    $("stats").textContent = `${u.completionTokens} tokens · prefill ${u.prefillTokensPerSecond.toFixed(1)} tok/s · ` +
      `decode ${u.decodeTokensPerSecond.toFixed(1)} tok/s · ${state.runtime.backend}/${state.runtime.artifact}`;
    setStatus("answered");
  } catch (e) {
    if (e.name === "AbortError") setStatus("answered");
    else fail(e);
  } finally {
    $("send").disabled = false;
    $("stop").disabled = true;
  }
}

$("model-source").addEventListener("change", () => {
  if ($("model-source").value === "file") $("model-file").click();
});
$("load").addEventListener("click", load);
$("load").disabled = true;
$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("prompt").value.trim();
  if (!text) return;
  $("prompt").value = "";
  send(text);
});
$("stop").addEventListener("click", () => controller && controller.abort());
window.hearthDemo.send = send;
window.hearthDemo.hearth = () => hearth;
// Offline after the first visit: the service worker keeps the page's files; the model is in OPFS. It is
// registered once a model has loaded, so that taking control never races the first download.
function enableOffline() {
  if (!("serviceWorker" in navigator) || params.get("offline") === "0") return;
  navigator.serviceWorker.register("../offline_sw.js", { scope: "../" }).catch((e) => console.warn("no offline support:", e.message));
}
start();
