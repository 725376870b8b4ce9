// The WebGPU browser build (hearth-webgpu: src/backend/webgpu/device_browser.cpp over navigator.gpu) in
// headless Chromium on SwiftShader: (1) the WebGPU op tests (tests/backend/webgpu/ops_test.cpp, every
// kernel against the CPU kernels on fresh random inputs, rel. L2 <= 1e-3) compiled to wasm and run in a
// page; (2) the chat page with backend `webgpu` answers with the native CPU build's greedy tokens.
// Run: node --test web/tests/webgpu.test.mjs   (after scripts/build_wasm.sh and the release build)
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";

import { chromium } from "playwright-core";

import { repoRoot, startServer, webRoot } from "./static_server.mjs";

const fixtures = path.join(repoRoot, "tests/data/fixtures/models");
const opsTestDir = path.join(repoRoot, "build/wasm-gpu/dist");
const hearthBin = process.env.HEARTH_BIN || path.join(repoRoot, "build/release/bin/hearth");
const artifactsDir = process.env.HEARTH_ARTIFACTS || path.join(repoRoot, "build/wasm-artifacts");
const chromiumFlags = [
  "--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=swiftshader", "--use-webgpu-adapter=swiftshader",
];
// SwiftShader runs WGSL on the CPU: the smallest fixture whose WebGPU tokens match natively, few tokens.
const model = "llama-spm-bf16.gguf";
const N = 16;

let browser;

before(async () => {
  for (const f of ["hearth-webgpu.js", "hearth-webgpu.wasm"])
    assert.ok(existsSync(path.join(webRoot, "dist", f)), `web/dist/${f} is missing: run scripts/build_wasm.sh`);
  mkdirSync(artifactsDir, { recursive: true });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: chromiumFlags });
});

after(async () => {
  await browser?.close();
});

test("WebGPU op tests run in Chromium through the browser build: every kernel matches the CPU kernels", async () => {
  const script = path.join(opsTestDir, "hearth_webgpu_ops_test.js");
  assert.ok(existsSync(script), `${script} is missing: run scripts/build_wasm.sh`);
  const server = await startServer({ fixtureDir: opsTestDir });
  const page = await browser.newPage();
  try {
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(`${server.url}/tests/blank.html`);
    const run = await page.evaluate((src) => new Promise((resolve) => {
      const lines = [];
      window.Module = {
        print: (l) => lines.push(l),
        printErr: (l) => lines.push(l),
        hearthTestsDone: (failed) => resolve({ failed, lines }),
        onAbort: (what) => resolve({ failed: -1, abort: String(what), lines }),
      };
      const s = document.createElement("script");
      s.src = src;
      s.onerror = () => resolve({ failed: -1, abort: `cannot load ${src}`, lines });
      document.body.append(s);
    }), "/fixtures/hearth_webgpu_ops_test.js");
    const out = run.lines.join("\n");
    assert.equal(run.abort, undefined, `aborted: ${run.abort}\n${out}`);
    assert.deepEqual(pageErrors, []);
    const ran = out.match(/^\[==========\] (\d+) tests? from \d+ test suites? ran/m);
    assert.ok(ran, `no gtest summary:\n${out}`);
    const passed = Number((out.match(/^\[ {2}PASSED {2}\] (\d+) tests?/m) || [])[1] || 0);
    assert.ok(Number(ran[1]) >= 30, `only ${ran[1]} tests ran`);
    assert.doesNotMatch(out, /^\[ {2}SKIPPED \]/m, "a test skipped (no adapter in the page?)");
    // The matvec of every weight type, norms, rope, attention, softmax, argmax are among them.
    for (const name of ["MatvecTest.MatchesCpuForDecodeAndPrefill/q4_K", "MatvecTest.MatchesCpuForDecodeAndPrefill/q8_0",
      "MatvecTest.MatchesCpuForDecodeAndPrefill/f16", "GetRowsTest", "RopeStoreTest"])
      assert.match(out, new RegExp(`^\\[ {7}OK \\] .*${name.replace(/[/.]/g, "\\$&")}`, "m"), `${name} did not pass`);
    assert.equal(run.failed, 0, `failing op tests in Chromium:\n${out.split("\n").filter((l) => /FAILED|Failure|Which is|Expected|error/.test(l)).join("\n")}`);
    assert.equal(passed, Number(ran[1]));
    console.log(`# WebGPU op tests in Chromium: ${passed} of ${ran[1]} passed`);
  } finally {
    await page.close();
    await server.close();
  }
});

// The native CPU build's greedy continuation: what the browser must reproduce token for token.
function nativeRun(prompt) {
  const out = execFileSync(hearthBin, ["run", "--json", "-n", String(N), "--temp", "0", "--backend", "cpu", "-m", path.join(fixtures, model), prompt], {
    encoding: "utf8", stdio: ["ignore", "pipe", "pipe"],
  });
  const json = JSON.parse(out.trim().split("\n").pop());
  assert.ok(Array.isArray(json.tokens) && json.tokens.length > 0, "native run returned no tokens");
  return json;
}

test("backend webgpu: the page loads a fixture on the adapter, reports it, and streams the native CPU greedy tokens", async () => {
  assert.ok(existsSync(hearthBin), `${hearthBin} is missing: build the release preset`);
  const prompt = "Once upon a time";
  const native = nativeRun(prompt);
  const server = await startServer({ fixtureDir: fixtures });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => { if (m.type() === "error") problems.push(`console error: ${m.text()}`); });
    await page.goto(`${server.url}/demo/?${new URLSearchParams({ backend: "webgpu", model: `/fixtures/${model}`, maxTokens: N, autoload: "1", offline: "0" })}`);
    await page.waitForFunction(() => ["loaded", "error"].includes(window.hearthDemo?.status), null, { timeout: 300_000 });
    const loaded = await page.evaluate(() => ({ status: hearthDemo.status, error: hearthDemo.error, runtime: hearthDemo.runtime, model: hearthDemo.model, shown: document.getElementById("runtime").textContent }));
    assert.equal(loaded.error, null);
    assert.equal(loaded.runtime.artifact, "webgpu");
    assert.equal(loaded.runtime.backend, "webgpu");
    assert.equal(loaded.model.backend, "webgpu", "the engine runs the model on WebGPU");
    assert.equal(loaded.runtime.webgpu.available, true);
    assert.equal(loaded.runtime.webgpu.architecture, "swiftshader");
    assert.equal(loaded.runtime.webgpu.shaderF16, false, "SwiftShader offers no shader-f16: the f32 kernels run");
    assert.match(loaded.shown, /backend webgpu .*WebGPU adapter: google swiftshader/, "the page shows the backend and adapter");

    await page.fill("#prompt", prompt);
    await page.click("#send");
    await page.waitForFunction(() => ["answered", "error"].includes(window.hearthDemo.status), null, { timeout: 300_000 });
    const answer = await page.evaluate(() => ({ error: hearthDemo.error, pieces: hearthDemo.pieces, result: hearthDemo.result, stats: document.getElementById("stats").textContent }));
    await page.screenshot({ path: path.join(artifactsDir, "webgpu-answered.png") });
    assert.equal(answer.error, null);
    assert.deepEqual(answer.result.promptTokens, native.prompt_tokens, "same prompt tokens");
    assert.deepEqual(answer.result.tokens, native.tokens, "WebGPU tokens in the browser == native CPU greedy tokens");
    assert.equal(answer.pieces.join(""), native.text, "streamed text == native text");
    assert.ok(answer.pieces.length > 1, "the answer was streamed in pieces");
    assert.match(answer.stats, /webgpu\/webgpu/);
    console.log(`# webgpu in Chromium (SwiftShader): ${answer.stats}`);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    await server.close();
  }
});

test("backend auto skips a software adapter; backend cpu with the webgpu artifact is refused clearly", async () => {
  const server = await startServer({ fixtureDir: fixtures });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/tests/blank.html`);
    const r = await page.evaluate(async () => {
      const { Hearth } = await import("/src/index.js");
      const auto = await Hearth.create({ backend: "auto" });
      const rt = auto.runtime;
      auto.terminate();
      let refused = null;
      try {
        (await Hearth.create({ artifact: "webgpu", backend: "cpu" })).terminate();
      } catch (e) {
        refused = e.message;
      }
      return { rt, refused };
    });
    assert.equal(r.rt.backend, "cpu");
    assert.notEqual(r.rt.artifact, "webgpu");
    assert.match(r.rt.backendReason, /software/);
    assert.equal(r.rt.webgpu.available, true, "the adapter is still reported");
    assert.match(r.refused, /webgpu artifact runs backend 'webgpu' or 'auto'/);
  } finally {
    await context.close();
    await server.close();
  }
});
