// Limits and lifecycle against a real `hearth serve` on loopback: 413 before the body is read, 429 with
// Retry-After, the queue bound (503), a disconnect cancelling its run at once, and SIGHUP reload that keeps
// open streams going.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { MODEL, renderConfig, startServe, metrics, sleep } from './harness.mjs';

const TOKEN = 'sk-limits-PLANTED-0a1b2c3d';
const SLOW_TOKEN = 'sk-limits-rate-PLANTED-99';
const ADMIN = 'sk-limits-admin-PLANTED-77';
const NEW_TOKEN = 'sk-limits-added-on-reload-42';

const baseConfig = {
  server: { admin_token_env: 'LIM_ADMIN', max_concurrency: 4, max_queue: 1, max_request_bytes: 65536, queue_timeout_seconds: 30 },
  targets: [{ name: 'llama', kind: 'local', model: MODEL, threads: 1, n_seq: 2, ctx: 2048, max_concurrency: 1 }],
  tokens: [
    { name: 'main', token: TOKEN, targets: ['*'] },
    { name: 'limited', token: SLOW_TOKEN, targets: ['llama'], requests_per_minute: 2 },
  ],
};
let server;

before(async () => {
  server = await startServe(baseConfig, { env: { LIM_ADMIN: ADMIN } });
});
after(async () => {
  await server?.stop();
  for (const s of [TOKEN, SLOW_TOKEN, ADMIN, NEW_TOKEN]) assert.ok(!server.log().includes(s), 'secret in log');
});

const auth = (t = TOKEN) => ({ Authorization: `Bearer ${t}`, 'Content-Type': 'application/json' });

// Sends raw bytes and resolves with whatever the server answers before it closes (or after `ms`).
function raw(port, bytes, ms = 3000) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('error', () => {});
    const done = () => resolve(data);
    socket.on('close', done);
    setTimeout(() => {
      socket.destroy();
      done();
    }, ms);
    socket.write(bytes);
  });
}

function streamQuery(body, token = TOKEN, signal) {
  return fetch(`${server.url}/v1/query`, {
    method: 'POST',
    headers: auth(token),
    body: JSON.stringify({ target: 'llama', stream: true, ...body }),
    signal,
  });
}

test('413 from the declared length, before the body is read', async () => {
  const started = Date.now();
  const answer = await raw(
    server.port,
    `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n` +
      `Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{"model":`,
  );
  assert.match(answer, /^HTTP\/1\.1 413/);
  assert.match(answer, /larger than the limit of 65536 bytes/);
  assert.ok(Date.now() - started < 2500, 'answered without waiting for the 100 MB');
  // A chunked body has no declared length: it is cut off at the limit while being read.
  const big = 'x'.repeat(70000);
  const chunked = await raw(
    server.port,
    `POST /v1/query HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n` +
      `${big.length.toString(16)}\r\n${big}\r\n`,
  );
  assert.match(chunked, /^HTTP\/1\.1 413/);
});

test('429 with Retry-After once the per-token request rate is used up', async () => {
  const models = () => fetch(`${server.url}/v1/query`, { method: 'POST', headers: auth(SLOW_TOKEN), body: JSON.stringify({ target: 'llama', prompt: 'a', max_tokens: 1 }) });
  assert.equal((await models()).status, 200);
  assert.equal((await models()).status, 200);
  const r = await models();
  assert.equal(r.status, 429);
  const retry = Number(r.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
  const j = await r.json();
  assert.equal(j.error.type, 'rate_limit_error');
});

test('the queue bound refuses with 503; a disconnect frees the slot at once', async () => {
  const before = await metrics(server, ADMIN);
  const long = { prompt: 'Tell me a long story', max_tokens: 1800, ignore_eos: true };
  const a = new AbortController();
  const b = new AbortController();
  const first = await streamQuery(long, TOKEN, a.signal);  // runs (target limit 1)
  assert.equal(first.status, 200);
  const reader = first.body.getReader();
  await reader.read();  // it is streaming
  const secondPromise = streamQuery(long, TOKEN, b.signal);  // waits in the queue (bound 1)
  await sleep(200);
  let m = await metrics(server, ADMIN);
  assert.equal(m['hearth_gateway_queued'], 1);
  const third = await streamQuery(long);
  assert.equal(third.status, 503);
  assert.equal((await third.json()).error.type, 'overloaded_error');

  // Disconnect the running stream: its run is cancelled and the queued request gets the slot.
  a.abort();
  const second = await secondPromise;
  assert.equal(second.status, 200);
  const t0 = Date.now();
  b.abort();
  for (;;) {
    m = await metrics(server, ADMIN);
    if (m['hearth_gateway_running'] === 0 && m['hearth_gateway_queued'] === 0) break;
    assert.ok(Date.now() - t0 < 2000, 'slots freed within 2 s of the disconnect');
    await sleep(20);
  }
  const cancelled = m['hearth_endpoint_requests_total{target="llama",state="cancelled"}'] -
    (before['hearth_endpoint_requests_total{target="llama",state="cancelled"}'] ?? 0);
  assert.equal(cancelled, 2, 'both runs were cancelled in the Client');
  assert.ok(m['hearth_gateway_disconnects_total'] >= 2);
});

test('SIGHUP reloads tokens without dropping an open stream', async () => {
  const ac = new AbortController();
  const r = await streamQuery({ prompt: 'Once', max_tokens: 1000, ignore_eos: true }, TOKEN, ac.signal);
  assert.equal(r.status, 200);
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value);

  const next = structuredClone(baseConfig);
  next.tokens.push({ name: 'added', token: NEW_TOKEN, targets: ['llama'] });
  writeFileSync(server.configPath, renderConfig(next));
  assert.equal((await fetch(`${server.url}/v1/models`, { headers: auth(NEW_TOKEN) })).status, 401);
  server.proc.kill('SIGHUP');
  for (let i = 0; ; i++) {
    if (server.log().includes('configuration reloaded')) break;
    assert.ok(i < 100, 'reload logged');
    await sleep(20);
  }
  assert.equal((await fetch(`${server.url}/v1/models`, { headers: auth(NEW_TOKEN) })).status, 200);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  assert.match(text, /event: done/);
  assert.match(text, /"completion_tokens":1000/);
});
