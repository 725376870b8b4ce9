// Acceptance: the official `openai` npm client drives `hearth serve` (a real server on loopback, a fixture
// model) through chat (streamed and not), completions, embeddings and models; errors arrive as the client's
// typed errors with the right status; planted secrets never appear in a response or a log line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import OpenAI from 'openai';
import { HEARTH, MODEL, CHAT_MODEL, EMBED_MODEL, startServe, metrics } from './harness.mjs';

const APP_TOKEN = 'sk-hearth-app-PLANTED-7f3a9c';
const NARROW_TOKEN = 'sk-hearth-narrow-PLANTED-51d2e0';
const ADMIN_TOKEN = 'sk-hearth-admin-PLANTED-c0ffee';
const PROVIDER_KEY = 'sk-provider-PLANTED-key-9b8a7';
const SECRETS = [APP_TOKEN, NARROW_TOKEN, ADMIN_TOKEN, PROVIDER_KEY];

let server;
const seen = [];  // every response body the tests saw, checked for secrets at the end

before(async () => {
  server = await startServe(
    {
      server: { admin_token_env: 'GW_ADMIN_TOKEN', max_concurrency: 8, max_queue: 64, cors_origins: ['http://app.example'] },
      targets: [
        { name: 'llama', kind: 'local', model: MODEL, threads: 1, n_seq: 4, ctx: 512 },
        { name: 'llama-b', kind: 'local', model: MODEL, threads: 1, n_seq: 2, ctx: 256 },
        { name: 'qwen', kind: 'local', model: CHAT_MODEL, threads: 1, n_seq: 2, ctx: 512 },
        { name: 'embed', kind: 'local', model: EMBED_MODEL, threads: 1 },
        // A provider whose key is planted in the environment; it points at a closed port on purpose.
        { name: 'upstream', kind: 'provider', base_url: 'http://127.0.0.1:9/v1', model: 'x', api_key_env: 'GW_PROVIDER_KEY' },
      ],
      tokens: [
        { name: 'app', token: APP_TOKEN, targets: ['*'] },
        { name: 'narrow', token: NARROW_TOKEN, targets: ['llama'] },
      ],
    },
    { env: { GW_ADMIN_TOKEN: ADMIN_TOKEN, GW_PROVIDER_KEY: PROVIDER_KEY } },
  );
});

after(async () => {
  await server?.stop();
  const log = server?.log() ?? '';
  for (const secret of SECRETS) {
    assert.ok(!log.includes(secret), `a secret appeared in the server log`);
    for (const body of seen) assert.ok(!body.includes(secret), `a secret appeared in a response: ${body.slice(0, 200)}`);
  }
  assert.ok(log.includes('POST /v1/chat/completions 200'), 'the access log records requests');
});

const client = () => new OpenAI({ apiKey: APP_TOKEN, baseURL: `${server.url}/v1`, maxRetries: 0 });

// What `hearth run` (the engine alone, no gateway, no Client) generates for the same prompt, greedy.
function hearthRun(prompt, n) {
  const out = execFileSync(HEARTH, ['run', '-m', MODEL, '-n', String(n), '--temp', '0', '--threads', '1', '--json', prompt], {
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop());
}

test('models lists the targets the token may use', async () => {
  const models = [];
  for await (const m of client().models.list()) models.push(m.id);
  assert.deepEqual(models.sort(), ['embed', 'llama', 'llama-b', 'qwen', 'upstream']);
  const narrow = new OpenAI({ apiKey: NARROW_TOKEN, baseURL: `${server.url}/v1`, maxRetries: 0 });
  const narrowModels = [];
  for await (const m of narrow.models.list()) narrowModels.push(m.id);
  assert.deepEqual(narrowModels, ['llama']);
});

test('completions (not streamed) match the engine run directly', async () => {
  const prompt = 'Once upon a time';
  const r = await client().completions.create({ model: 'llama', prompt, max_tokens: 12, temperature: 0 });
  seen.push(JSON.stringify(r));
  const reference = hearthRun(prompt, 12);
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices[0].text, reference.text);
  assert.equal(r.usage.completion_tokens, reference.tokens?.length ?? r.usage.completion_tokens);
  assert.ok(r.usage.prompt_tokens > 0);
});

test('completions streamed equal completions not streamed', async () => {
  const args = { model: 'llama', prompt: 'The quick brown fox', max_tokens: 10, temperature: 0 };
  const whole = await client().completions.create(args);
  const stream = await client().completions.create({ ...args, stream: true });
  let text = '';
  let finish = null;
  let chunks = 0;
  for await (const chunk of stream) {
    seen.push(JSON.stringify(chunk));
    chunks++;
    text += chunk.choices[0]?.text ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(text, whole.choices[0].text);
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.ok(chunks >= 2);
});

test('chat (not streamed) and chat streamed agree, with usage', async () => {
  const messages = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Hello there' }];
  const whole = await client().chat.completions.create({ model: 'qwen', messages, max_tokens: 10, temperature: 0 });
  seen.push(JSON.stringify(whole));
  assert.equal(whole.object, 'chat.completion');
  assert.equal(whole.choices[0].message.role, 'assistant');
  assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + whole.usage.completion_tokens);

  const stream = await client().chat.completions.create({
    model: 'qwen', messages, max_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let role = null;
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    seen.push(JSON.stringify(chunk));
    role = chunk.choices[0]?.delta?.role ?? role;
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(role, 'assistant');
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.deepEqual(
    { p: usage.prompt_tokens, c: usage.completion_tokens },
    { p: whole.usage.prompt_tokens, c: whole.usage.completion_tokens },
  );
  // The same conversation through hearth's own route gives the same text.
  const own = await fetch(`${server.url}/v1/chat`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${APP_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ target: 'qwen', messages, max_tokens: 10, sampling: { temperature: 0 } }),
  }).then((r) => r.json());
  assert.equal(own.text, whole.choices[0].message.content);
  assert.equal(own.tokens.length, whole.usage.completion_tokens);
});

test('embeddings through the client: one normalized vector per input, same as hearth\'s route, base64 too', async () => {
  const r = await client().embeddings.create({ model: 'embed', input: ['hello world', 'a different sentence'] });
  seen.push(JSON.stringify(r));
  assert.equal(r.object, 'list');
  assert.equal(r.model, 'embed');
  assert.equal(r.data.length, 2);
  assert.deepEqual(r.data.map((d) => d.index), [0, 1]);
  const [a, b] = r.data.map((d) => d.embedding);
  assert.equal(a.length, b.length);
  assert.ok(a.length >= 8);
  for (const v of [a, b]) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5, 'normalized');
  assert.ok(Math.abs(a.reduce((s, x, i) => s + x * b[i], 0)) < 0.9999, 'different inputs give different vectors');
  assert.ok(r.usage.prompt_tokens > 2);
  // hearth's own route runs the same Client call: identical numbers.
  const own = await fetch(`${server.url}/v1/embed`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${APP_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ target: 'embed', inputs: ['hello world', 'a different sentence'] }),
  }).then((x) => x.json());
  assert.deepEqual(own.embeddings.map((v) => v.map(Math.fround)), [a, b].map((v) => v.map(Math.fround)));
  // encoding_format base64: little-endian float32 bytes of the same vector.
  const b64 = await fetch(`${server.url}/v1/embeddings`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${APP_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'embed', input: 'hello world', encoding_format: 'base64' }),
  }).then((x) => x.json());
  const bytes = Buffer.from(b64.data[0].embedding, 'base64');
  const floats = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
  assert.deepEqual(floats, a.map(Math.fround));
  // An encoder target cannot generate: a clear 400, not a crash.
  await assert.rejects(
    client().completions.create({ model: 'embed', prompt: 'x', max_tokens: 1 }),
    (e) => e.status === 400 && /embed/.test(e.message),
  );
});

test('auth: missing or wrong token is 401, a target outside the token is 403', async () => {
  const wrong = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${server.url}/v1`, maxRetries: 0 });
  await assert.rejects(wrong.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
  const r = await fetch(`${server.url}/v1/models`);
  assert.equal(r.status, 401);
  seen.push(await r.text());
  const narrow = new OpenAI({ apiKey: NARROW_TOKEN, baseURL: `${server.url}/v1`, maxRetries: 0 });
  await assert.rejects(
    narrow.chat.completions.create({ model: 'llama-b', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
    (e) => e instanceof OpenAI.PermissionDeniedError && e.status === 403 && /llama-b/.test(e.message),
  );
});

test('bad requests are 400 with a clear message', async () => {
  await assert.rejects(
    client().chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }),
    (e) => e.status === 400 && /unknown target 'nope'/.test(e.message),
  );
  await assert.rejects(
    client().chat.completions.create({ model: 'llama', messages: 'hi' }),
    (e) => e.status === 400 && /messages/.test(e.message),
  );
  await assert.rejects(
    client().completions.create({ model: 'llama', prompt: 'x', max_tokens: 'ten' }),
    (e) => e.status === 400 && /max_tokens must be an integer/.test(e.message),
  );
  const post = (body) =>
    fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${APP_TOKEN}`, 'Content-Type': 'application/json' },
      body,
    });
  let r = await post('{"model": "llama", "messages": [');
  assert.equal(r.status, 400);
  let j = await r.json();
  assert.match(j.error.message, /malformed JSON/);
  assert.equal(j.error.type, 'invalid_request_error');
  // A second "model" key would silently override the first in a lenient parser.
  r = await post('{"model": "llama-b", "messages": [{"role": "user", "content": "hi"}], "model": "llama"}');
  assert.equal(r.status, 400);
  assert.match((await r.json()).error.message, /duplicate key "model"/);
  r = await post('{"model": "llama", "messages": [{"role": "user", "content": "hi"}], "frobnicate": 1}');
  assert.equal(r.status, 400);
  assert.match((await r.json()).error.message, /unknown field 'frobnicate'/);
  // hearth's options may not restate typed fields.
  r = await fetch(`${server.url}/v1/query`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${APP_TOKEN}` },
    body: JSON.stringify({ target: 'llama', prompt: 'hi', options: { stream: true } }),
  });
  assert.equal(r.status, 400);
  assert.match((await r.json()).error.message, /options.stream would override the typed field/);
});

test('provider errors name the endpoint but never its key', async () => {
  const e = await client()
    .chat.completions.create({ model: 'upstream', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 })
    .then(() => null, (err) => err);
  assert.ok(e, 'the unreachable provider must fail');
  seen.push(JSON.stringify(e.error ?? e.message));
  assert.match(e.message, /upstream|remote/);
});

test('health, metrics and the admin page', async () => {
  assert.deepEqual(await fetch(`${server.url}/health`).then((r) => r.json()), { status: 'ok' });
  assert.equal((await fetch(`${server.url}/admin`)).status, 401);
  assert.equal((await fetch(`${server.url}/admin`, { headers: { Authorization: `Bearer ${APP_TOKEN}` } })).status, 401);
  const page = await fetch(`${server.url}/admin`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.text());
  seen.push(page);
  assert.match(page, /<td>llama<\/td>/);
  assert.match(page, /Live requests/);
  const m = await metrics(server, ADMIN_TOKEN);
  assert.ok(m['hearth_gateway_requests_total{route="/v1/chat/completions",code="200"}'] >= 2);
  assert.equal(m['hearth_gateway_running'], 0);
  assert.equal(m['hearth_gateway_queued'], 0);
  assert.ok(m['hearth_gateway_completion_tokens_total{target="llama"}'] > 0);
});

test('CORS: an allowed origin is echoed, preflight answers 204', async () => {
  const r = await fetch(`${server.url}/v1/models`, {
    method: 'OPTIONS',
    headers: { Origin: 'http://app.example', 'Access-Control-Request-Method': 'POST' },
  });
  assert.equal(r.status, 204);
  assert.equal(r.headers.get('access-control-allow-origin'), 'http://app.example');
  const other = await fetch(`${server.url}/health`, { headers: { Origin: 'http://evil.example' } });
  assert.equal(other.headers.get('access-control-allow-origin'), null);
});
