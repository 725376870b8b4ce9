// Starts `hearth serve` on loopback with a config written for the test, and collects everything it logs, so
// tests can assert on responses and on log lines (secrets must appear in neither).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Relative paths in the environment are taken from the working directory (configs live in a temp dir).
export const HEARTH = path.resolve(process.env.HEARTH_EXE ?? 'build/release/bin/hearth');
export const FIXTURES = path.resolve(process.env.HEARTH_FIXTURE_DIR ?? 'tests/data/fixtures');
export const MODEL = path.join(FIXTURES, 'models', 'llama-spm-q8_0.gguf');
// A fixture with a chat template (the llama one has none), for the chat routes.
export const CHAT_MODEL = path.join(FIXTURES, 'models', 'qwen2-bpe-q4_0.gguf');
// An encoder (BERT, CLS pooling) for the embedding routes.
export const EMBED_MODEL = path.join(FIXTURES, 'embedding', 'bert-wpm-q8_0-cls.gguf');

export function tomlString(s) {
  return JSON.stringify(s);
}

// A config from parts: { server: {...}, targets: [{...}], tokens: [{...}] } rendered as TOML.
export function renderConfig({ server = {}, targets = [], tokens = [], listeners = [{ address: '127.0.0.1', port: 0 }] }) {
  const value = (v) => (Array.isArray(v) ? `[${v.map(value).join(', ')}]` : typeof v === 'string' ? tomlString(v) : String(v));
  const table = (obj) => Object.entries(obj).map(([k, v]) => `${k} = ${value(v)}`).join('\n');
  let out = `[server]\n${table(server)}\n`;
  for (const l of listeners) out += `\n[[listeners]]\n${table(l)}\n`;
  for (const t of targets) out += `\n[[targets]]\n${table(t)}\n`;
  for (const t of tokens) out += `\n[[tokens]]\n${table(t)}\n`;
  return out;
}

export async function startServe(config, { env = {}, timeoutMs = 60000 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'hearth-gw-'));
  const configPath = path.join(dir, 'gateway.toml');
  writeFileSync(configPath, typeof config === 'string' ? config : renderConfig(config));
  const proc = spawn(HEARTH, ['serve', '--config', configPath], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hearth serve did not start:\n${log}`)), timeoutMs);
    const check = () => {
      const m = /listening on https?:\/\/[^\s]+:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stderr.on('data', check);
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`hearth serve exited with ${code}:\n${log}`));
    });
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    configPath,
    proc,
    log: () => log,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function metrics(server, adminToken) {
  const r = await fetch(`${server.url}/metrics`, { headers: { Authorization: `Bearer ${adminToken}` } });
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  const text = await r.text();
  const values = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values[line.slice(0, at)] = Number(line.slice(at + 1));
  }
  return values;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
