// Bounded load run against `hearth serve` on loopback (it stops by itself):
//   1. --streams N concurrent streaming chat requests: every one must end with [DONE] and status 200;
//      afterwards no slot is held (gateway running/queued 0) and the Client finished exactly N runs.
//   2. --requests M non-streaming requests (32 at a time): server RSS after a warm-up vs after all of them.
// node tests/gateway/load_test.mjs --streams 1000 --requests 10000
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CHAT_MODEL as MODEL, startServe, metrics } from './harness.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const STREAMS = arg('streams', 1000);
const REQUESTS = arg('requests', 10000);
const TOKEN = 'sk-load-PLANTED-abcdef';
const ADMIN = 'sk-load-admin-PLANTED-123';

const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

const server = await startServe(
  {
    server: { admin_token_env: 'LOAD_ADMIN', max_concurrency: 16, max_queue: STREAMS + 64, queue_timeout_seconds: 600, log_requests: false },
    targets: [{ name: 'llama', kind: 'local', model: MODEL, threads: 2, n_seq: 16, ctx: 128, max_concurrency: 16 }],
    tokens: [{ name: 'load', token: TOKEN, targets: ['llama'] }],
  },
  { env: { LOAD_ADMIN: ADMIN } },
);
const key = (state) => `hearth_endpoint_requests_total{target="llama",state="${state}"}`;
let exitCode = 0;
try {
  const m0 = await metrics(server, ADMIN);
  const body = (stream) =>
    JSON.stringify({ model: 'llama', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 4, temperature: 0, stream });
  const headers = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

  // 1. Concurrent streams.
  let errors = 0;
  let peakConnections = 0;
  const t0 = performance.now();
  const watcher = setInterval(async () => {
    const m = await metrics(server, ADMIN).catch(() => ({}));
    peakConnections = Math.max(peakConnections, m['hearth_gateway_connections'] ?? 0);
  }, 250);
  const results = await Promise.all(
    Array.from({ length: STREAMS }, async () => {
      try {
        const r = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers, body: body(true) });
        const text = await r.text();
        if (r.status !== 200 || !text.trimEnd().endsWith('data: [DONE]') || text.includes('"error"')) {
          errors++;
          return `status ${r.status}: ${text.slice(0, 200)}`;
        }
        return null;
      } catch (e) {
        errors++;
        return String(e);
      }
    }),
  );
  clearInterval(watcher);
  const streamSeconds = (performance.now() - t0) / 1000;
  // A stream's slot is released just after its last event is written, so a client that has read [DONE] can
  // still see it running: leaked slots are ones that stay, so give them up to 5 s to be released.
  let m1 = await metrics(server, ADMIN);
  for (let i = 0; i < 50 && (m1['hearth_gateway_running'] !== 0 || m1['hearth_gateway_queued'] !== 0); i++) {
    await new Promise((r) => setTimeout(r, 100));
    m1 = await metrics(server, ADMIN);
  }
  const firstError = results.find((r) => r !== null);
  console.log(
    `streams: ${STREAMS} concurrent, ${errors} errors, ${streamSeconds.toFixed(1)} s, peak open connections ${peakConnections}` +
      (firstError ? `, first error: ${firstError}` : ''),
  );
  console.log(
    `slots after: gateway running ${m1['hearth_gateway_running']}, queued ${m1['hearth_gateway_queued']}; ` +
      `Client admitted ${m1[key('admitted')] - (m0[key('admitted')] ?? 0)}, finished ${m1[key('finished')] - (m0[key('finished')] ?? 0)}, ` +
      `cancelled ${m1[key('cancelled')] - (m0[key('cancelled')] ?? 0)}`,
  );
  assert.equal(errors, 0);
  assert.equal(m1['hearth_gateway_running'], 0);
  assert.equal(m1['hearth_gateway_queued'], 0);
  assert.equal(m1[key('finished')] - (m0[key('finished')] ?? 0), STREAMS);
  assert.equal(m1[key('admitted')] - (m0[key('admitted')] ?? 0), STREAMS);

  // 2. Memory across many requests.
  const warmup = Math.min(1000, Math.floor(REQUESTS / 5));
  let sent = 0;
  let failed = 0;
  const worker = async (count) => {
    while (sent < count) {
      sent++;
      const r = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers, body: body(false) });
      if (r.status !== 200) failed++;
      await r.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 32 }, () => worker(warmup)));
  const rssWarm = rssKiB(server.proc.pid);
  const t1 = performance.now();
  await Promise.all(Array.from({ length: 32 }, () => worker(REQUESTS)));
  const rssAfter = rssKiB(server.proc.pid);
  const rps = (REQUESTS - warmup) / ((performance.now() - t1) / 1000);
  console.log(
    `memory: RSS ${(rssWarm / 1024).toFixed(1)} MiB after ${warmup} requests, ${(rssAfter / 1024).toFixed(1)} MiB after ${REQUESTS} ` +
      `(${((rssAfter - rssWarm) / 1024).toFixed(1)} MiB growth); ${rps.toFixed(0)} requests/s; ${failed} failed`,
  );
  assert.equal(failed, 0);
  assert.ok(rssAfter - rssWarm < 16 * 1024, 'RSS stays flat (< 16 MiB growth)');
} catch (e) {
  console.error(e);
  exitCode = 1;
} finally {
  await server.stop();
}
process.exit(exitCode);
