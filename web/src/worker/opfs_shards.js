// Model files in the Origin Private File System, as the engine worker stores and reads them.
// Layout: hearth/models/<key>/manifest.json next to shard-0000, shard-0001, ... A file larger than the
// shard threshold (2 GiB) is written as shards of shardSize bytes (512 MiB) because browsers cap single
// OPFS files and ArrayBuffers below what a large GGUF needs; the manifest is written last, so a staging cut
// short (tab closed, quota) is never mistaken for a complete model.
// Classic script (the worker loads it with importScripts): defines the global HearthOpfs.
/* global self */
"use strict";

var HearthOpfs = (() => {
  const GiB = 1024 ** 3;
  const MiB = 1024 ** 2;
  const DEFAULT_SHARD_THRESHOLD = 2 * GiB;
  const DEFAULT_SHARD_SIZE = 512 * MiB;
  const MANIFEST = "manifest.json";

  function formatBytes(n) {
    if (n >= GiB) return (n / GiB).toFixed(2) + " GiB";
    if (n >= MiB) return (n / MiB).toFixed(1) + " MiB";
    return n + " bytes";
  }

  // A directory name from any model name: OPFS names may not contain '/' and should stay short.
  function keyFor(name) {
    const key = String(name).replace(/[^A-Za-z0-9._-]/g, "_").slice(-120);
    if (!key || key === "." || key === "..") throw new Error(`cannot make a storage key from '${name}'`);
    return key;
  }

  function shardName(i) {
    return "shard-" + String(i).padStart(4, "0");
  }

  async function modelsDir() {
    if (!self.navigator || !navigator.storage || !navigator.storage.getDirectory)
      throw new Error("this browser has no Origin Private File System (navigator.storage.getDirectory)");
    const root = await navigator.storage.getDirectory();
    const hearth = await root.getDirectoryHandle("hearth", { create: true });
    return hearth.getDirectoryHandle("models", { create: true });
  }

  async function readManifest(key) {
    const models = await modelsDir();
    try {
      const dir = await models.getDirectoryHandle(key);
      const file = await (await dir.getFileHandle(MANIFEST)).getFile();
      const m = JSON.parse(await file.text());
      if (!m || m.complete !== true || !Number.isSafeInteger(m.size) || !Number.isSafeInteger(m.shards)) return null;
      return m;
    } catch (e) {
      if (e && (e.name === "NotFoundError" || e instanceof SyntaxError)) return null;
      throw e;
    }
  }

  async function remove(key) {
    const models = await modelsDir();
    try {
      await models.removeEntry(key, { recursive: true });
    } catch (e) {
      if (!e || e.name !== "NotFoundError") throw e;
    }
  }

  async function list() {
    const models = await modelsDir();
    const out = [];
    for await (const [name, handle] of models.entries()) {
      if (handle.kind !== "directory") continue;
      const m = await readManifest(name);
      if (m) out.push({ key: name, name: m.name, size: m.size, shards: m.shards });
    }
    return out;
  }

  function quotaMessage(name, needed, estimate) {
    const free = estimate && estimate.quota !== undefined ? estimate.quota - (estimate.usage || 0) : undefined;
    return (
      `not enough browser storage to keep ${name}: it needs ${formatBytes(needed)}` +
      (free !== undefined ? ` but this site may use only ${formatBytes(Math.max(0, free))} more` : "") +
      ". Free space (remove other models from this site, or clear site data) or use a smaller model."
    );
  }

  // Streams `source` ({url} or {file}) into OPFS under `key`. onProgress({phase, loaded, total}).
  async function stage({ key, name, source, shardThreshold, shardSize, onProgress, fetchFn }) {
    const threshold = shardThreshold ?? DEFAULT_SHARD_THRESHOLD;
    const pieceSize = shardSize ?? DEFAULT_SHARD_SIZE;
    if (!Number.isSafeInteger(pieceSize) || pieceSize < 4096)
      throw new Error(`shard size must be an integer of at least 4096 bytes, not ${pieceSize}`);
    if (!Number.isSafeInteger(threshold) || threshold < 0) throw new Error(`bad shard threshold ${threshold}`);

    let total, reader, label;
    if (source.file) {
      total = source.file.size;
      reader = source.file.stream().getReader();
      label = source.file.name || name;
    } else if (source.url) {
      let response;
      try {
        response = await (fetchFn || fetch)(source.url);
      } catch (e) {
        throw new Error(`cannot download ${source.url}: ${e.message || e} (offline, or the server refused it)`);
      }
      if (!response.ok) throw new Error(`cannot download ${source.url}: HTTP ${response.status} ${response.statusText}`);
      const length = Number(response.headers.get("content-length"));
      total = Number.isSafeInteger(length) && length > 0 ? length : undefined;
      reader = response.body.getReader();
      label = source.url;
    } else {
      throw new Error("stage: source must be {url} or {file}");
    }

    const estimate = navigator.storage.estimate ? await navigator.storage.estimate() : undefined;
    if (total !== undefined && estimate && estimate.quota !== undefined && estimate.quota - (estimate.usage || 0) < total)
      throw new Error(quotaMessage(label, total, estimate));

    // Unknown length: shard anyway, so a large download never has to fit one file.
    const sharded = total === undefined || total > threshold;
    const limit = sharded ? pieceSize : Infinity;

    await remove(key);
    const models = await modelsDir();
    const dir = await models.getDirectoryHandle(key, { create: true });
    let shards = 0, handle = null, inShard = 0, loaded = 0;
    const openShard = async () => {
      const fh = await dir.getFileHandle(shardName(shards), { create: true });
      handle = await fh.createSyncAccessHandle();
      handle.truncate(0);
      shards++;
      inShard = 0;
    };
    const closeShard = () => {
      if (handle) {
        handle.flush();
        handle.close();
        handle = null;
      }
    };
    try {
      await openShard();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        let off = 0;
        while (off < value.length) {
          if (inShard === limit) {
            closeShard();
            await openShard();
          }
          const n = Math.min(value.length - off, limit - inShard);
          const wrote = handle.write(value.subarray(off, off + n), { at: inShard });
          if (wrote !== n) throw new Error(`short write to OPFS (${wrote} of ${n} bytes)`);
          off += n;
          inShard += n;
          loaded += n;
        }
        if (onProgress) onProgress({ phase: "download", loaded, total });
      }
      closeShard();
      // Let the network stack see the response finish before the caller blocks this worker in a long
      // synchronous load (otherwise Chromium may record the finished download as aborted).
      reader.releaseLock();
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (total !== undefined && loaded !== total)
        throw new Error(`download of ${label} ended after ${loaded} of ${total} bytes`);
      const manifest = {
        version: 1, name: name || label, size: loaded, shardSize: sharded ? pieceSize : loaded, shards, complete: true,
      };
      const mh = await (await dir.getFileHandle(MANIFEST, { create: true })).createSyncAccessHandle();
      const bytes = new TextEncoder().encode(JSON.stringify(manifest));
      mh.truncate(0);
      mh.write(bytes, { at: 0 });
      mh.flush();
      mh.close();
      return manifest;
    } catch (e) {
      closeShard();
      try { reader.cancel(); } catch (_) { /* already closed */ }
      await remove(key).catch(() => {});
      if (e && e.name === "QuotaExceededError") throw new Error(quotaMessage(label, total ?? loaded, estimate));
      throw e;
    }
  }

  // Sync access handles on every shard, for reads straight into the WebAssembly heap.
  async function openShards(key) {
    const m = await readManifest(key);
    if (!m) throw new Error(`model '${key}' is not in browser storage; stage it first`);
    const models = await modelsDir();
    const dir = await models.getDirectoryHandle(key);
    const handles = [];
    try {
      for (let i = 0; i < m.shards; i++) {
        const fh = await dir.getFileHandle(shardName(i));
        handles.push(await fh.createSyncAccessHandle());
      }
      let sum = 0;
      for (let i = 0; i < m.shards; i++) {
        const s = handles[i].getSize();
        const expected = i + 1 < m.shards ? m.shardSize : m.size - m.shardSize * (m.shards - 1);
        if (s !== expected) throw new Error(`stored model '${key}' is damaged: ${shardName(i)} has ${s} bytes, expected ${expected}`);
        sum += s;
      }
      if (sum !== m.size) throw new Error(`stored model '${key}' is damaged: ${sum} of ${m.size} bytes`);
    } catch (e) {
      for (const h of handles) h.close();
      throw e;
    }
    return {
      manifest: m,
      handles,
      close() {
        for (const h of handles) h.close();
        handles.length = 0;
      },
    };
  }

  // Reads [position, position + length) across shard boundaries into `target` (a Uint8Array/Int8Array view).
  function readAt(opened, target, position) {
    const m = opened.manifest;
    let done = 0;
    while (done < target.length && position + done < m.size) {
      const p = position + done;
      const i = Math.floor(p / m.shardSize);
      const at = p - i * m.shardSize;
      const n = Math.min(target.length - done, m.shardSize - at, m.size - p);
      const got = opened.handles[i].read(target.subarray(done, done + n), { at });
      if (got <= 0) throw new Error(`read of ${shardName(i)} at ${at} returned ${got}`);
      done += got;
    }
    return done;
  }

  return {
    DEFAULT_SHARD_THRESHOLD, DEFAULT_SHARD_SIZE, keyFor, readManifest, list, remove, stage, openShards, readAt,
    formatBytes,
  };
})();
