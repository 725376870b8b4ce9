// The gateway client's own guarantees, over real HTTP on loopback: base URL rules, bearer tokens from value
// providers, secret redaction, bounded error bodies and SSE events, cancellation. The server here speaks
// the wire format of `hearth serve`'s /v1/query (src/gateway/response_format.cpp: "tokens", "usage",
// "done", "error" events) and misbehaves on purpose where a real gateway would not.
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, test } from "node:test";

import { GatewayClient, GatewayError, validateBaseUrl } from "../src/gateway.js";

const SECRET = "sk-test-7f3a9c1d5e";
let server, base, lastRequest, closedEarly;

before(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      lastRequest = { url: req.url, headers: req.headers, body: body ? JSON.parse(body) : null };
      const target = lastRequest.body && lastRequest.body.target;
      if (req.headers.authorization !== `Bearer ${SECRET}`) {
        // A careless server that echoes the credential: the client must not pass it on.
        res.writeHead(401, { "content-type": "application/json" });
        return res.end(JSON.stringify({ error: { message: `bad token ${req.headers.authorization}` } }));
      }
      if (target === "huge-error") {
        res.writeHead(500, { "content-type": "text/plain" });
        return res.end("x".repeat(5 << 20));
      }
      if (req.url === "/v1/embed") {
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify({ target, embeddings: lastRequest.body.inputs.map((s) => [s.length, 1]) }));
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      if (target === "huge-event") {
        res.write("event: tokens\ndata: " + "y".repeat(2 << 20) + "\n\n");
        return res.end();
      }
      if (target === "slow") {
        res.write(`event: tokens\ndata: ${JSON.stringify({ tokens: [1], text: "a" })}\n\n`);
        const timer = setInterval(() => res.write(`event: tokens\ndata: ${JSON.stringify({ tokens: [2], text: "b" })}\n\n`), 20);
        req.socket.on("close", () => { clearInterval(timer); closedEarly = true; });
        return;
      }
      const pieces = [["Hel", [10]], ["lo", [11]], [" world", [12, 13]]];
      for (const [text, tokens] of pieces) res.write(`event: tokens\ndata: ${JSON.stringify({ tokens, text })}\n\n`);
      res.write(`event: usage\ndata: ${JSON.stringify({ prompt_tokens: 3, completion_tokens: 4 })}\n\n`);
      res.end(`event: done\ndata: ${JSON.stringify({ id: "req-1", target, finish_reason: "length", usage: { completion_tokens: 4 } })}\n\n`);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => new Promise((r) => server.close(r)));

test("base URL: https anywhere, http only to loopback, no credentials or query", () => {
  assert.equal(validateBaseUrl("https://gw.example.com/"), "https://gw.example.com");
  assert.equal(validateBaseUrl("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
  assert.equal(validateBaseUrl("http://localhost:1/x/"), "http://localhost:1/x");
  assert.equal(validateBaseUrl("http://[::1]:9"), "http://[::1]:9");
  assert.throws(() => validateBaseUrl("http://gw.example.com"), /plain HTTP to a non-loopback host/);
  assert.throws(() => validateBaseUrl("http://10.0.0.1"), /non-loopback/);
  assert.throws(() => validateBaseUrl("https://user:pw@gw.example.com"), /credentials/);
  assert.throws(() => validateBaseUrl("https://gw.example.com/?key=1"), /query/);
  assert.throws(() => validateBaseUrl("ftp://127.0.0.1"), /http\(s\)/);
  assert.throws(() => validateBaseUrl("not a url"), /not a valid URL/);
});

test("query streams token batches over SSE with a token from an async provider", async () => {
  let calls = 0;
  const client = new GatewayClient({ baseUrl: base, target: "chat", token: async () => (calls++, SECRET) });
  const run = client.query({ prompt: "Hi", maxTokens: 4, temperature: 0, topK: 1 });
  const pieces = [];
  for await (const p of run) pieces.push(p);
  const r = await run.result;
  assert.deepEqual(pieces.map((p) => p.text), ["Hel", "lo", " world"]);
  assert.deepEqual(pieces[2].tokens, [12, 13]);
  assert.equal(r.text, "Hello world");
  assert.deepEqual(r.tokens, [10, 11, 12, 13]);
  assert.equal(r.finishReason, "length");
  assert.equal(calls, 1);
  assert.equal(lastRequest.url, "/v1/query");
  assert.deepEqual(lastRequest.body, { target: "chat", prompt: "Hi", max_tokens: 4, sampling: { temperature: 0, top_k: 1 }, stream: true });
});

test("chat and embed use hearth's routes and fields", async () => {
  const client = new GatewayClient({ baseUrl: base, target: "chat", token: SECRET });
  const run = client.chat({ messages: [{ role: "user", content: "Hi" }] });
  assert.equal((await run.result).text, "Hello world");
  assert.equal(lastRequest.url, "/v1/chat");
  assert.deepEqual(lastRequest.body.messages, [{ role: "user", content: "Hi" }]);
  assert.deepEqual(await client.embed({ inputs: ["abc", "de"] }), [[3, 1], [2, 1]]);
  assert.equal(lastRequest.url, "/v1/embed");
});

test("errors never show the secret, and error bodies are read only up to the bound", async () => {
  const wrong = new GatewayClient({ baseUrl: base, target: "chat", headers: { "x-api-key": () => "sk-other-secret-42" }, token: "sk-wrong-token-99" });
  const e = await wrong.query({ prompt: "x" }).result.catch((x) => x);
  assert.ok(e instanceof GatewayError);
  assert.equal(e.status, 401);
  assert.match(e.message, /gateway HTTP 401: bad token Bearer \[redacted\]/);
  assert.ok(!e.message.includes("sk-wrong-token-99"));

  const client = new GatewayClient({ baseUrl: base, target: "huge-error", token: SECRET, maxErrorBodyBytes: 1000 });
  const big = await client.query({ prompt: "x" }).result.catch((x) => x);
  assert.equal(big.status, 500);
  assert.ok(big.message.length < 1100, `message of ${big.message.length} chars`);
});

test("an SSE event larger than the bound is refused", async () => {
  const client = new GatewayClient({ baseUrl: base, target: "huge-event", token: SECRET, maxEventBytes: 64 << 10 });
  const e = await client.query({ prompt: "x" }).result.catch((x) => x);
  assert.ok(e instanceof GatewayError);
  assert.match(e.message, /larger than 65536 bytes/);
});

test("AbortSignal ends the run at once and closes the connection", async () => {
  closedEarly = false;
  const client = new GatewayClient({ baseUrl: base, target: "slow", token: SECRET });
  const controller = new AbortController();
  const run = client.query({ prompt: "x", signal: controller.signal });
  const seen = [];
  const err = await (async () => {
    try {
      for await (const p of run) {
        seen.push(p.text);
        if (seen.length === 3) controller.abort();
      }
    } catch (x) {
      return x;
    }
  })();
  assert.equal(err.name, "AbortError");
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(closedEarly, true, "the server saw the connection close");
});

// End to end against a real `hearth serve` (tests/gateway/harness.mjs starts it) when the binary has the
// command: the streamed tokens equal the native CPU build's greedy tokens for the same prompt.
test("against hearth serve: streamed query tokens == native greedy tokens, wrong token refused", async (t) => {
  const { execFileSync } = await import("node:child_process");
  const { existsSync } = await import("node:fs");
  const path = (await import("node:path")).default;
  const { repoRoot } = await import("./static_server.mjs");
  const exe = process.env.HEARTH_EXE || path.join(repoRoot, "build/release/bin/hearth");
  let hasServe = false;
  try {
    hasServe = existsSync(exe) && execFileSync(exe, ["serve", "--help"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).includes("serve");
  } catch (_) { /* no serve command in this build */ }
  if (!hasServe) return t.skip(`${exe} has no serve command (build the release preset, or set HEARTH_EXE)`);
  process.env.HEARTH_EXE = exe;
  process.env.HEARTH_FIXTURE_DIR = path.join(repoRoot, "tests/data/fixtures");
  const { MODEL, startServe } = await import(path.join(repoRoot, "tests/gateway/harness.mjs"));
  const token = "sk-web-client-PLANTED-5150";
  const serve = await startServe({
    targets: [{ name: "llama", kind: "local", model: MODEL, threads: 1, n_seq: 2, ctx: 512 }],
    tokens: [{ name: "web", token, targets: ["*"] }],
  });
  try {
    const native = JSON.parse(execFileSync(exe, ["run", "--json", "-n", "16", "--temp", "0", "-m", MODEL, "Once upon a time"], { encoding: "utf8" }).trim().split("\n").pop());
    const client = new GatewayClient({ baseUrl: serve.url, target: "llama", token: () => token });
    const run = client.query({ prompt: "Once upon a time", maxTokens: 16, temperature: 0 });
    const pieces = [];
    const r = await (async () => {
      for await (const p of run) pieces.push(p.text);
      return run.result;
    })().catch((e) => { throw new Error(`${e.message}\nserver log:\n${serve.log()}`); });
    assert.deepEqual(r.tokens, native.tokens);
    assert.equal(pieces.join(""), native.text);
    const bad = new GatewayClient({ baseUrl: serve.url, target: "llama", token: "sk-wrong-PLANTED-1" });
    const e = await bad.query({ prompt: "x" }).result.catch((x) => x);
    assert.equal(e.status, 401);
    assert.ok(!e.message.includes("sk-wrong-PLANTED-1"));
  } finally {
    await serve.stop();
  }
});
