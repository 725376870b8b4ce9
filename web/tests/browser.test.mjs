// The chat page in headless Chromium (playwright-core, Debian's /usr/bin/chromium): the engine runs in the
// page's worker from web/dist (scripts/build_wasm.sh), models are staged in OPFS from a loopback server,
// and every answer is compared with the native CPU build's greedy tokens for the same prompt.
// Run: node --test web/tests/   (env: HEARTH_BIN=native hearth binary, HEARTH_ARTIFACTS=screenshot dir)
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";

import { chromium } from "playwright-core";

import { repoRoot, startServer, webRoot } from "./static_server.mjs";

const fixtures = path.join(repoRoot, "tests/data/fixtures/models");
const hearthBin = process.env.HEARTH_BIN || path.join(repoRoot, "build/release/bin/hearth");
const artifactsDir = process.env.HEARTH_ARTIFACTS || path.join(repoRoot, "build/wasm-artifacts");
const chromiumFlags = [
  "--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=swiftshader", "--use-webgpu-adapter=swiftshader",
];
const N = 32;

// The native CPU build's greedy continuation: what the browser must reproduce token for token.
function nativeRun(model, prompt) {
  const out = execFileSync(hearthBin, ["run", "--json", "-n", String(N), "--temp", "0", "-m", path.join(fixtures, model), prompt], {
    encoding: "utf8", stdio: ["ignore", "pipe", "pipe"],
  });
  const json = JSON.parse(out.trim().split("\n").pop());
  assert.ok(Array.isArray(json.tokens) && json.tokens.length > 0, "native run returned no tokens");
  return json;
}

let server, browser;

before(async () => {
  for (const f of ["hearth-threads.js", "hearth-threads.wasm", "hearth-threads.worker.js", "hearth-single.js", "hearth-single.wasm"])
    assert.ok(existsSync(path.join(webRoot, "dist", f)), `web/dist/${f} is missing: run scripts/build_wasm.sh`);
  assert.ok(existsSync(hearthBin), `${hearthBin} is missing: build the release preset`);
  mkdirSync(artifactsDir, { recursive: true });
  server = await startServer({ fixtureDir: fixtures });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: chromiumFlags });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

// A page whose console errors, uncaught exceptions and failed requests fail the test.
async function openPage(context, query) {
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console error: ${m.text()}`); });
  // Except net::ERR_ABORTED on a GGUF download: Chromium can record a download that finished as aborted when
  // the worker blocks in the synchronous model load right after it (seen with the CPU busy: CI builds beside
  // the tests). The loader itself checks the bytes against Content-Length and fails the page otherwise, and
  // each test asserts the page's status and its tokens.
  page.on("requestfailed", (r) => {
    const text = r.failure()?.errorText;
    if (text === "net::ERR_ABORTED" && new URL(r.url()).pathname.endsWith(".gguf")) return;
    problems.push(`request failed: ${r.url()} ${text}`);
  });
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  const requests = [];
  page.on("request", (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(`${server.url}/demo/?${new URLSearchParams(query)}`);
  return { page, problems, requests };
}

async function waitStatus(page, statuses, timeout = 180_000) {
  await page.waitForFunction((s) => s.includes(window.hearthDemo?.status), statuses, { timeout });
  const st = await page.evaluate(() => ({ status: hearthDemo.status, error: hearthDemo.error }));
  assert.equal(st.error, null, `page error: ${st.error}`);
  return st.status;
}

// Types a message into the page and waits for the streamed answer.
async function chatThroughUi(page, text) {
  await page.fill("#prompt", text);
  await page.click("#send");
  await waitStatus(page, ["answered", "error"]);
  return page.evaluate(() => ({ pieces: hearthDemo.pieces, result: hearthDemo.result, shown: document.querySelector(".msg.assistant:last-child").textContent }));
}

for (const artifact of ["threads", "single"]) {
  test(`${artifact}: a fixture is staged in OPFS, answers with the native greedy tokens, and reloads without network`, async () => {
    const model = "llama-spm-q8_0.gguf";
    const prompt = "Once upon a time";
    const native = nativeRun(model, prompt);
    const context = await browser.newContext();
    try {
      const query = { artifact, model: `/fixtures/${model}`, maxTokens: N, autoload: "1" };
      const first = await openPage(context, query);
      // Mid-load: once the first progress report arrived (or the load already ended).
      await first.page.waitForFunction(() => window.hearthDemo && (hearthDemo.progress.length > 0 || ["loaded", "error"].includes(hearthDemo.status)),
        null, { timeout: 60_000 });
      await first.page.screenshot({ path: path.join(artifactsDir, `${artifact}-loading.png`) });
      assert.equal(await waitStatus(first.page, ["loaded", "error"]), "loaded");
      const rt = await first.page.evaluate(() => hearthDemo.runtime);
      assert.equal(rt.artifact, artifact);
      assert.equal(rt.backend, "cpu");
      assert.equal(rt.simd, "wasm-simd128");
      const m1 = await first.page.evaluate(() => hearthDemo.model);
      assert.equal(m1.cached, false);
      assert.equal(m1.size, readFileSync(path.join(fixtures, model)).length);
      assert.equal(first.requests.filter((p) => p === `/fixtures/${model}`).length, 1, "the model is downloaded once");
      assert.ok((await first.page.evaluate(() => hearthDemo.progress)).some((p) => p.phase === "download" && p.loaded === p.total));

      const answer = await chatThroughUi(first.page, prompt);
      await first.page.screenshot({ path: path.join(artifactsDir, `${artifact}-answered.png`) });
      assert.deepEqual(answer.result.tokens, native.tokens, "browser tokens == native greedy tokens");
      assert.equal(answer.pieces.join(""), native.text, "streamed text == native text");
      assert.ok(answer.pieces.length > 1, "the answer was streamed in pieces");
      assert.equal(answer.shown, native.text, "the page shows the answer");
      assert.deepEqual(first.problems, []);
      await first.page.close();

      // Second visit: the model comes from OPFS; no request for it at all.
      const second = await openPage(context, query);
      assert.equal(await waitStatus(second.page, ["loaded", "error"]), "loaded");
      assert.equal(await second.page.evaluate(() => hearthDemo.model.cached), true);
      assert.deepEqual(second.requests.filter((p) => p.startsWith("/fixtures/")), [], "no network request for the model");
      const again = await chatThroughUi(second.page, prompt);
      assert.deepEqual(again.result.tokens, native.tokens);

      // AbortSignal: the iteration ends with AbortError, the worker stops within a token or two, and the
      // engine answers the next request exactly.
      const cancel = await second.page.evaluate(async (p) => {
        const h = hearthDemo.hearth();
        const c = new AbortController();
        const run = h.query({ prompt: p, maxTokens: 400, temperature: 0, ignoreEos: true, signal: c.signal });
        let pieces = 0, error = null;
        try {
          for await (const _ of run) if (++pieces === 3) c.abort();
        } catch (e) {
          error = e.name;
        }
        const settled = await run.settled;
        const next = await h.query({ prompt: p, maxTokens: 32, temperature: 0 }).result;
        return { pieces, error, finishReason: settled.finishReason, generated: settled.tokens.length, next: next.tokens };
      }, prompt);
      assert.equal(cancel.error, "AbortError");
      assert.equal(cancel.pieces, 3);
      assert.equal(cancel.finishReason, "cancelled");
      assert.ok(cancel.generated < 10, `the worker stopped after ${cancel.generated} tokens`);
      assert.deepEqual(cancel.next, native.tokens);
      assert.deepEqual(second.problems, []);
      await second.page.close();

      // Offline: the page's files come from the service worker's cache, the model from OPFS.
      await context.setOffline(true);
      const third = await openPage(context, query);
      assert.equal(await waitStatus(third.page, ["loaded", "error"]), "loaded");
      const offline = await chatThroughUi(third.page, prompt);
      assert.deepEqual(offline.result.tokens, native.tokens, "offline answer == native tokens");
      await context.setOffline(false);
    } finally {
      await context.close();
    }
  });
}

test("chat: the model's template renders in the browser and the answer equals native greedy tokens", async () => {
  const model = "qwen2-bpe-q4_0.gguf";
  const context = await browser.newContext();
  try {
    const { page, problems } = await openPage(context, { model: `/fixtures/${model}`, maxTokens: N, autoload: "1" });
    assert.equal(await waitStatus(page, ["loaded", "error"]), "loaded");
    assert.equal(await page.evaluate(() => hearthDemo.model.hasChatTemplate), true);
    const answer = await chatThroughUi(page, "What is a hearth?");
    assert.equal(answer.result.prompt.includes("What is a hearth?"), true);
    // The same rendered prompt, natively (special tokens parsed on both sides).
    const native = nativeRun(model, answer.result.prompt);
    assert.deepEqual(answer.result.promptTokens, native.prompt_tokens, "same prompt tokens");
    assert.deepEqual(answer.result.tokens, native.tokens, "browser chat tokens == native greedy tokens");
    assert.equal(answer.pieces.join(""), native.text);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("shards: a lowered threshold splits a fixture into >= 3 OPFS shards that reassemble byte-exactly and load", async () => {
  const model = "llama-spm-q6_k.gguf";
  const bytes = readFileSync(path.join(fixtures, model));
  const shardSize = 4 << 20;
  const native = nativeRun(model, "Once upon a time");
  const context = await browser.newContext();
  try {
    const { page, problems } = await openPage(context, {
      model: `/fixtures/${model}`, maxTokens: N, autoload: "1", shardThreshold: String(1 << 20), shardSize: String(shardSize),
    });
    assert.equal(await waitStatus(page, ["loaded", "error"]), "loaded");
    const m = await page.evaluate(() => hearthDemo.model);
    assert.equal(m.shards, Math.ceil(bytes.length / shardSize));
    assert.ok(m.shards >= 3, `${m.shards} shards`);
    const digest = await page.evaluate((key) => hearthDemo.hearth().digest(key), m.key);
    assert.equal(digest.sha256, createHash("sha256").update(bytes).digest("hex"), "reassembled bytes == the file");
    const answer = await chatThroughUi(page, "Once upon a time");
    assert.deepEqual(answer.result.tokens, native.tokens, "a model read from shards generates the native tokens");
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("a broken page fails: a missing model is reported as an error, not a hang", async () => {
  const context = await browser.newContext();
  try {
    const { page, problems } = await openPage(context, { model: "/fixtures/no-such-model.gguf", autoload: "1" });
    await page.waitForFunction(() => ["loaded", "error"].includes(window.hearthDemo?.status), null, { timeout: 60_000 });
    const st = await page.evaluate(() => ({ status: hearthDemo.status, error: hearthDemo.error }));
    assert.equal(st.status, "error");
    assert.match(st.error, /HTTP 404/);
    assert.ok(problems.some((p) => p.includes("404")), "the harness sees the failed request");
  } finally {
    await context.close();
  }
});

test("embeddings in the browser equal llama.cpp's (cosine >= 0.999)", async () => {
  const model = "bert-wpm-q8_0-cls.gguf";
  const reference = JSON.parse(readFileSync(path.join(repoRoot, "tests/data/embedding/bert-wpm-q8_0-cls.json"), "utf8"));
  const embeddingFixtures = path.join(repoRoot, "tests/data/fixtures/embedding");
  const embServer = await startServer({ fixtureDir: embeddingFixtures });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${embServer.url}/demo/?${new URLSearchParams({ model: `/fixtures/${model}`, autoload: "1" })}`);
    assert.equal(await waitStatus(page, ["loaded", "error"]), "loaded");
    assert.equal(await page.evaluate(() => hearthDemo.model.embeddingOnly), true);
    const cases = reference.cases.slice(0, 6);
    const vectors = await page.evaluate((inputs) => hearthDemo.hearth().embed({ inputs, normalize: false }), cases.map((c) => c.text));
    assert.equal(vectors.length, cases.length);
    cases.forEach((c, i) => {
      const a = vectors[i], b = c.embedding;
      assert.equal(a.length, b.length);
      let dot = 0, na = 0, nb = 0;
      for (let k = 0; k < a.length; k++) { dot += a[k] * b[k]; na += a[k] * a[k]; nb += b[k] * b[k]; }
      const cos = dot / Math.sqrt(na * nb);
      assert.ok(cos >= 0.999, `"${c.text}": cosine ${cos}`);
    });
  } finally {
    await context.close();
    await embServer.close();
  }
});

test("upload: a GGUF picked from disk is staged in OPFS and answers with the native greedy tokens", async () => {
  const model = "llama-spm-q8_0.gguf";
  const native = nativeRun(model, "Once upon a time");
  const context = await browser.newContext();
  try {
    const { page, problems, requests } = await openPage(context, { maxTokens: N });
    await page.waitForFunction(() => window.hearthDemo?.status === "ready", null, { timeout: 60_000 });
    await page.setInputFiles("#model-file", path.join(fixtures, model));
    await page.evaluate(() => { document.getElementById("model-source").value = "file"; });
    await page.click("#load");
    assert.equal(await waitStatus(page, ["loaded", "error"]), "loaded");
    const m = await page.evaluate(() => hearthDemo.model);
    assert.equal(m.cached, false);
    assert.equal(m.size, readFileSync(path.join(fixtures, model)).length);
    assert.ok(!requests.some((p) => p.endsWith(".gguf")), "nothing downloaded");
    const answer = await chatThroughUi(page, "Once upon a time");
    assert.deepEqual(answer.result.tokens, native.tokens);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
