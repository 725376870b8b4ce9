// The prompt registry inside `hearth serve` (issue 6), over HTTP on loopback: /v1/prompts behind the gateway's
// tokens (read vs write rights, 403 without them), and prompt://name@stage references in model requests,
// resolved and rendered by the gateway and recorded in the response usage, the metrics and the request log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { MODEL, CHAT_MODEL, startServe, metrics } from './harness.mjs';

const WRITER = 'sk-prompts-writer-PLANTED-1111';
const READER = 'sk-prompts-reader-PLANTED-2222';
const NO_PROMPTS = 'sk-prompts-none-PLANTED-3333';
const ADMIN = 'sk-prompts-admin-PLANTED-4444';
const SECRETS = [WRITER, READER, NO_PROMPTS, ADMIN];
const APP_ORIGIN = 'http://app.example:3000';   // a page allowed by server.cors_origins

let server;
const seen = [];

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hearth-gw-prompts-'));
  server = await startServe(
    {
      server: { admin_token_env: 'PR_ADMIN', max_concurrency: 4, max_queue: 16, prompt_registry: path.join(dir, 'prompts.sqlite'),
        cors_origins: [APP_ORIGIN] },
      targets: [
        { name: 'llama', kind: 'local', model: MODEL, threads: 1, n_seq: 2, ctx: 256 },
        { name: 'qwen', kind: 'local', model: CHAT_MODEL, threads: 1, n_seq: 2, ctx: 256 },
      ],
      tokens: [
        { name: 'writer', token: WRITER, targets: ['*'], prompts: 'write' },
        { name: 'reader', token: READER, targets: ['*'], prompts: 'read' },
        { name: 'none', token: NO_PROMPTS, targets: ['*'] },
      ],
    },
    { env: { PR_ADMIN: ADMIN } },
  );
});

after(async () => {
  await server?.stop();
  const log = server?.log() ?? '';
  for (const s of SECRETS) {
    assert.ok(!log.includes(s), 'a secret appeared in the server log');
    for (const body of seen) assert.ok(!body.includes(s), 'a secret appeared in a response');
  }
});

async function call(method, route, token, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(`${server.url}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  seen.push(text);
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: r.status, headers: r.headers, text, json };
}

const GREET_V1 = { template: 'Hello {{ name }}, tell me about {{ topic }}.', variables: { name: 'string', topic: { type: 'string', default: 'rivers' } }, message: 'first' };
const GREET_V2 = { template: 'Dear {{ name }}: a short note on {{ topic }}.', variables: { name: 'string', topic: { type: 'string', default: 'lakes' } }, message: 'second' };
const versions = {};

test('registry API through the gateway: write rights create and promote, read rights read, 403 without them', async () => {
  assert.equal((await call('POST', '/v1/prompts/greet/versions', 'sk-unknown', GREET_V1)).status, 401);
  const noRights = await call('POST', '/v1/prompts/greet/versions', NO_PROMPTS, GREET_V1);
  assert.equal(noRights.status, 403);
  assert.match(noRights.json.error.message, /no prompt registry rights/);
  assert.equal((await call('GET', '/v1/prompts', NO_PROMPTS)).status, 403);
  const readOnly = await call('POST', '/v1/prompts/greet/versions', READER, GREET_V1);
  assert.equal(readOnly.status, 403);
  assert.match(readOnly.json.error.message, /may read but not write/);

  const v1 = await call('POST', '/v1/prompts/greet/versions', WRITER, GREET_V1);
  assert.equal(v1.status, 201, v1.text);
  assert.equal(v1.json.version, 1);
  assert.match(v1.json.hash, /^[0-9a-f]{64}$/);
  versions[1] = v1.json.hash;
  const v2 = await call('POST', '/v1/prompts/greet/versions', WRITER, GREET_V2);
  assert.equal(v2.status, 201);
  versions[2] = v2.json.hash;

  // A malformed template is refused at push time with its position.
  const broken = await call('POST', '/v1/prompts/greet/versions', WRITER, { template: 'Hi {{ name ', variables: { name: 'string' } });
  assert.equal(broken.status, 400);
  assert.equal(broken.json.error.code, 'template_syntax');

  assert.equal((await call('POST', '/v1/prompts/greet/stages/prod', READER, { version: 1 })).status, 403);
  const promoted = await call('POST', '/v1/prompts/greet/stages/prod', WRITER, { version: 1 });
  assert.equal(promoted.status, 200, promoted.text);

  const got = await call('GET', '/v1/prompts/greet?stage=prod', READER);
  assert.equal(got.status, 200);
  assert.equal(got.json.version, 1);
  assert.equal(got.headers.get('etag'), `"${versions[1]}"`);
  const byVersion = await call('GET', '/v1/prompts/greet?version=2', READER);
  assert.equal(byVersion.json.hash, versions[2]);
  const diff = await call('GET', '/v1/prompts/greet/diff?from=1&to=2', READER);
  assert.equal(diff.status, 200);
  assert.match(diff.json.diff, /^-Hello/m);
  assert.match(diff.json.diff, /^\+Dear/m);
  const audit = await call('GET', '/v1/prompts/greet/audit', READER);
  assert.deepEqual(audit.json.data.map((e) => e.actor), ['writer', 'writer', 'writer']);
  const list = await call('GET', '/v1/prompts', READER);
  assert.deepEqual(list.json.data.map((p) => p.name), ['greet']);
});

// The browser PromptResolver calls these routes from pages on other origins: the preflight lets its token and
// If-None-Match through, and the answers (304s and errors too) let the page read ETag and X-Prompt-Version.
test('registry routes answer CORS for the configured origins: preflight, ETag readable, errors too', async () => {
  const preflight = await fetch(`${server.url}/v1/prompts/greet?stage=prod`, {
    method: 'OPTIONS',
    headers: { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization,if-none-match' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), APP_ORIGIN);
  assert.match(preflight.headers.get('access-control-allow-headers'), /Authorization/);
  assert.match(preflight.headers.get('access-control-allow-headers'), /If-None-Match/);

  const fromApp = (token, extra = {}) => fetch(`${server.url}/v1/prompts/greet?stage=prod`, {
    headers: { Origin: APP_ORIGIN, Authorization: `Bearer ${token}`, ...extra },
  });
  const got = await fromApp(READER);
  assert.equal(got.status, 200);
  assert.equal(got.headers.get('access-control-allow-origin'), APP_ORIGIN);
  assert.match(got.headers.get('access-control-expose-headers'), /ETag/);
  assert.match(got.headers.get('access-control-expose-headers'), /X-Prompt-Version/);
  const notModified = await fromApp(READER, { 'If-None-Match': got.headers.get('etag') });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.headers.get('access-control-allow-origin'), APP_ORIGIN);
  const refused = await fromApp(NO_PROMPTS);
  assert.equal(refused.status, 403);
  assert.equal(refused.headers.get('access-control-allow-origin'), APP_ORIGIN);

  const elsewhere = await fetch(`${server.url}/v1/prompts/greet?stage=prod`, {
    headers: { Origin: 'http://elsewhere.example', Authorization: `Bearer ${READER}` },
  });
  assert.equal(elsewhere.status, 200);
  assert.equal(elsewhere.headers.get('access-control-allow-origin'), null);
  assert.equal(elsewhere.headers.get('access-control-expose-headers'), null);
});

const query = (token, body) => call('POST', '/v1/query', token, { target: 'llama', max_tokens: 6, sampling: { temperature: 0 }, ...body });

test('a prompt:// query is rendered from the registry and the version is recorded in usage', async () => {
  const viaRef = await query(READER, { prompt: 'prompt://greet@prod', variables: { name: 'Ada' } });
  assert.equal(viaRef.status, 200, viaRef.text);
  assert.deepEqual(viaRef.json.usage.prompt, { name: 'greet', version: 1, hash: versions[1], stage: 'prod', stale: false });
  // The model saw exactly the rendered text: same tokens as sending that text directly.
  const direct = await query(READER, { prompt: 'Hello Ada, tell me about rivers.' });
  assert.deepEqual(viaRef.json.tokens, direct.json.tokens);
  assert.equal(viaRef.json.usage.prompt_tokens, direct.json.usage.prompt_tokens);
  assert.equal(direct.json.usage.prompt, undefined);

  // By version number; stage is null then.
  const v2 = await query(READER, { prompt: 'prompt://greet@2', variables: { name: 'Ada', topic: 'tides' } });
  assert.deepEqual(v2.json.usage.prompt, { name: 'greet', version: 2, hash: versions[2], stage: null, stale: false });
  const v2direct = await query(READER, { prompt: 'Dear Ada: a short note on tides.' });
  assert.deepEqual(v2.json.tokens, v2direct.json.tokens);
});

test('streamed: the done event carries the prompt usage; a promotion takes effect on the next request', async () => {
  const r = await fetch(`${server.url}/v1/query`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${READER}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ target: 'llama', prompt: 'prompt://greet@prod', variables: { name: 'Bo' }, max_tokens: 4, stream: true }),
  });
  const text = await r.text();
  const done = JSON.parse(/event: done\ndata: (.*)\n/.exec(text)[1]);
  assert.equal(done.usage.prompt.version, 1);

  assert.equal((await call('POST', '/v1/prompts/greet/stages/prod', WRITER, { version: 2 })).status, 200);
  const after = await query(READER, { prompt: 'prompt://greet@prod', variables: { name: 'Bo' } });
  assert.equal(after.json.usage.prompt.version, 2);
  assert.equal(after.json.usage.prompt.hash, versions[2]);
  const rolled = await call('POST', '/v1/prompts/greet/stages/prod/rollback', WRITER);
  assert.equal(rolled.status, 200, rolled.text);
  const back = await query(READER, { prompt: 'prompt://greet@prod', variables: { name: 'Bo' } });
  assert.equal(back.json.usage.prompt.version, 1);
});

test('OpenAI routes: a message that is a prompt:// reference, variables in prompt_variables', async () => {
  const client = new OpenAI({ apiKey: READER, baseURL: `${server.url}/v1`, maxRetries: 0 });
  const viaRef = await client.chat.completions.create({
    model: 'qwen',
    messages: [{ role: 'user', content: 'prompt://greet@prod' }],
    max_tokens: 6,
    temperature: 0,
    prompt_variables: { name: 'Cy' },
  });
  seen.push(JSON.stringify(viaRef));
  assert.deepEqual(viaRef.usage.prompt, { name: 'greet', version: 1, hash: versions[1], stage: 'prod', stale: false });
  const direct = await client.chat.completions.create({
    model: 'qwen',
    messages: [{ role: 'user', content: 'Hello Cy, tell me about rivers.' }],
    max_tokens: 6,
    temperature: 0,
  });
  assert.equal(viaRef.choices[0].message.content, direct.choices[0].message.content);
  assert.equal(viaRef.usage.prompt_tokens, direct.usage.prompt_tokens);

  const completion = await client.completions.create({ model: 'llama', prompt: 'prompt://greet@1', max_tokens: 3, prompt_variables: { name: 'Di' } });
  assert.equal(completion.usage.prompt.version, 1);
});

test('prompt:// errors: no rights 403, unknown prompt or stage 400, bad variables 400', async () => {
  const noRights = await query(NO_PROMPTS, { prompt: 'prompt://greet@prod', variables: { name: 'x' } });
  assert.equal(noRights.status, 403);
  const unknown = await query(READER, { prompt: 'prompt://nope@prod' });
  assert.equal(unknown.status, 400);
  assert.match(unknown.json.error.message, /prompt:\/\/nope@prod/);
  assert.equal((await query(READER, { prompt: 'prompt://greet@staging', variables: { name: 'x' } })).status, 400);
  const missing = await query(READER, { prompt: 'prompt://greet@prod' });
  assert.equal(missing.status, 400);
  assert.match(missing.json.error.message, /name/);
  const undeclared = await query(READER, { prompt: 'prompt://greet@prod', variables: { name: 'x', extra: 1 } });
  assert.equal(undeclared.status, 400);
  const wrongType = await query(READER, { prompt: 'prompt://greet@prod', variables: { name: 7 } });
  assert.equal(wrongType.status, 400);
  const stray = await query(READER, { prompt: 'plain text', variables: { name: 'x' } });
  assert.equal(stray.status, 400);
  assert.match(stray.json.error.message, /no prompt or message is a prompt:\/\/name@stage reference/);
});

test('metrics count requests per prompt version; the request log names the version and hash', async () => {
  const m = await metrics(server, ADMIN);
  const v1 = m[`hearth_gateway_prompt_requests_total{prompt="greet",version="1",hash="${versions[1]}"}`];
  const v2 = m[`hearth_gateway_prompt_requests_total{prompt="greet",version="2",hash="${versions[2]}"}`];
  assert.equal(v1, 5);  // query, stream, after rollback, OpenAI chat, OpenAI completion
  assert.equal(v2, 2);  // @2 and after the promotion
  assert.ok(m['hearth_gateway_requests_total{route="/v1/prompts",code="403"}'] >= 4);
  assert.match(server.log(), new RegExp(`POST /v1/query 200 target=llama prompt=greet@1 hash=${versions[1]}`));
  assert.match(server.log(), new RegExp(`POST /v1/chat/completions 200 target=qwen prompt=greet@1 hash=${versions[1]}`));
});

test('an A/B stage splits by end user (OpenAI "user"), stably, and usage records the version chosen', async () => {
  const split = await call('POST', '/v1/prompts/greet/stages/ab', WRITER, { versions: [{ version: 1, weight: 1 }, { version: 2, weight: 1 }] });
  assert.equal(split.status, 200, split.text);
  const client = new OpenAI({ apiKey: READER, baseURL: `${server.url}/v1`, maxRetries: 0 });
  const ask = async (user) => {
    const r = await client.completions.create({ model: 'llama', prompt: 'prompt://greet@ab', max_tokens: 1, user, prompt_variables: { name: 'E' } });
    assert.equal(r.usage.prompt.stage, 'ab');
    return r.usage.prompt.version;
  };
  const chosen = {};
  for (let i = 0; i < 24; i++) chosen[`user-${i}`] = await ask(`user-${i}`);
  const versionsSeen = new Set(Object.values(chosen));
  assert.deepEqual([...versionsSeen].sort(), [1, 2], 'both arms are served');
  for (const user of Object.keys(chosen).slice(0, 6)) assert.equal(await ask(user), chosen[user], 'stable per user');
  // The gateway's choice is the registry's own for the caller key "<token name>/<user>".
  for (const user of Object.keys(chosen).slice(0, 6)) {
    const got = await call('GET', `/v1/prompts/greet?stage=ab&caller=${encodeURIComponent(`reader/${user}`)}`, READER);
    assert.equal(got.json.version, chosen[user]);
  }
});
