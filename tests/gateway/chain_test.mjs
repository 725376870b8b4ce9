// Gateway → gateway: a front `hearth serve` whose targets are a second `hearth serve` on loopback, once as a
// hearth gateway endpoint (/v1/query with hearth's events) and once as an OpenAI provider endpoint
// (/v1/completions, /v1/chat/completions). Results, streaming, cancellation and errors cross the hop.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { CHAT_MODEL as MODEL, startServe, metrics, sleep } from './harness.mjs';

const UP_TOKEN = 'sk-upstream-PLANTED-1234abcd';
const FRONT_TOKEN = 'sk-front-PLANTED-5678efgh';
const ADMIN = 'sk-chain-admin-PLANTED-00';
let upstream, front;

before(async () => {
  upstream = await startServe(
    {
      server: { admin_token_env: 'CH_ADMIN' },
      targets: [
        { name: 'llama', kind: 'local', model: MODEL, threads: 1, n_seq: 4, ctx: 2048 },
        { name: 'forbidden', kind: 'local', model: MODEL, threads: 1, n_seq: 1, ctx: 128 },
      ],
      tokens: [{ name: 'front', token: UP_TOKEN, targets: ['llama'] }],
    },
    { env: { CH_ADMIN: ADMIN } },
  );
  front = await startServe(
    {
      server: { admin_token_env: 'CH_ADMIN' },
      targets: [
        { name: 'via-gateway', kind: 'gateway', url: upstream.url, target: 'llama', token_env: 'CH_UP_TOKEN' },
        { name: 'via-provider', kind: 'provider', base_url: `${upstream.url}/v1`, model: 'llama', api_key_env: 'CH_UP_TOKEN' },
        { name: 'not-allowed-upstream', kind: 'gateway', url: upstream.url, target: 'forbidden', token_env: 'CH_UP_TOKEN' },
      ],
      tokens: [{ name: 'app', token: FRONT_TOKEN, targets: ['*'] }],
    },
    { env: { CH_ADMIN: ADMIN, CH_UP_TOKEN: UP_TOKEN } },
  );
});
after(async () => {
  await front?.stop();
  await upstream?.stop();
  for (const s of [UP_TOKEN, FRONT_TOKEN, ADMIN]) {
    assert.ok(!front.log().includes(s), 'secret in the front log');
    assert.ok(!upstream.log().includes(s), 'secret in the upstream log');
  }
});

const client = (server, key) => new OpenAI({ apiKey: key, baseURL: `${server.url}/v1`, maxRetries: 0 });

test('completions through both remote kinds equal the upstream answer', async () => {
  const args = { prompt: 'Once upon a time', max_tokens: 12, temperature: 0 };
  const direct = await client(upstream, UP_TOKEN).completions.create({ model: 'llama', ...args });
  for (const model of ['via-gateway', 'via-provider']) {
    const r = await client(front, FRONT_TOKEN).completions.create({ model, ...args });
    assert.equal(r.choices[0].text, direct.choices[0].text, model);
    assert.equal(r.usage.completion_tokens, direct.usage.completion_tokens, model);
    assert.equal(r.choices[0].finish_reason, direct.choices[0].finish_reason, model);
  }
});

test('chat streamed through both remote kinds equals the upstream answer', async () => {
  const messages = [{ role: 'user', content: 'Hello' }];
  const direct = await client(upstream, UP_TOKEN).chat.completions.create({ model: 'llama', messages, max_tokens: 10, temperature: 0 });
  for (const model of ['via-gateway', 'via-provider']) {
    const stream = await client(front, FRONT_TOKEN).chat.completions.create({ model, messages, max_tokens: 10, temperature: 0, stream: true });
    let text = '';
    let chunks = 0;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      chunks++;
    }
    assert.equal(text, direct.choices[0].message.content, model);
    assert.ok(chunks >= 3, `${model} streamed in pieces`);
  }
  // hearth's own route over the gateway endpoint keeps the token ids.
  const own = (server, token, target) =>
    fetch(`${server.url}/v1/query`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      body: JSON.stringify({ target, prompt: 'Hi', max_tokens: 6, sampling: { temperature: 0 } }),
    }).then((r) => r.json());
  const a = await own(upstream, UP_TOKEN, 'llama');
  const b = await own(front, FRONT_TOKEN, 'via-gateway');
  assert.deepEqual(b.tokens, a.tokens);
});

test('cancelling at the front cancels the upstream run', async () => {
  for (const target of ['via-gateway', 'via-provider']) {
    const before = await metrics(upstream, ADMIN);
    const ac = new AbortController();
    const body = target === 'via-gateway'
      ? { target, prompt: 'Go on', max_tokens: 1500, ignore_eos: true, stream: true }
      : null;
    const r = body
      ? await fetch(`${front.url}/v1/query`, { method: 'POST', headers: { Authorization: `Bearer ${FRONT_TOKEN}` }, body: JSON.stringify(body), signal: ac.signal })
      : await fetch(`${front.url}/v1/completions`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${FRONT_TOKEN}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ model: target, prompt: 'Go on', max_tokens: 1500, stream: true }),
          signal: ac.signal,
        });
    assert.equal(r.status, 200);
    const reader = r.body.getReader();
    await reader.read();
    await reader.read();
    ac.abort();
    const t0 = Date.now();
    for (;;) {
      const m = await metrics(upstream, ADMIN);
      const key = 'hearth_endpoint_requests_total{target="llama",state="cancelled"}';
      if (m[key] > (before[key] ?? 0) && m['hearth_gateway_running'] === 0) break;
      assert.ok(Date.now() - t0 < 3000, `${target}: upstream run cancelled within 3 s`);
      await sleep(25);
    }
    const fm = await metrics(front, ADMIN);
    assert.equal(fm['hearth_gateway_running'], 0);
  }
});

test('an upstream refusal comes back as an error naming the endpoint, without secrets', async () => {
  const r = await fetch(`${front.url}/v1/query`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${FRONT_TOKEN}` },
    body: JSON.stringify({ target: 'not-allowed-upstream', prompt: 'x', max_tokens: 2 }),
  });
  const text = await r.text();
  assert.equal(r.status, 400);
  assert.match(text, /not-allowed-upstream/);
  assert.match(text, /HTTP 403/);
  for (const s of [UP_TOKEN, FRONT_TOKEN]) assert.ok(!text.includes(s));
  // Local-only fields are refused on remote targets.
  const k = await fetch(`${front.url}/v1/query`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${FRONT_TOKEN}` },
    body: JSON.stringify({ target: 'via-gateway', prompt: 'x', context_key: 'conv-1' }),
  });
  assert.equal(k.status, 400);
  assert.match(await k.text(), /context_key works on local endpoints only/);
});
