// A static server on loopback for the browser tests and the demo: web/ at /, the fixture models at
// /fixtures/, models/default.gguf at /models/default.gguf, with the COOP/COEP headers that make the page
// cross-origin isolated (needed by the threaded build). Counts requests per path so tests can assert that
// a reload fetched no model bytes.
import { createReadStream, promises as fs } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const webRoot = path.resolve(here, "..");
export const repoRoot = path.resolve(webRoot, "..");

const types = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".wasm": "application/wasm", ".json": "application/json", ".gguf": "application/octet-stream",
  ".png": "image/png", ".svg": "image/svg+xml",
};

function resolvePath(urlPath, fixtureDir) {
  const p = decodeURIComponent(urlPath);
  if (p.includes("\0")) return null;
  let base, rel;
  if (p.startsWith("/fixtures/")) [base, rel] = [fixtureDir, p.slice("/fixtures/".length)];
  else if (p === "/models/default.gguf") [base, rel] = [path.join(repoRoot, "models"), "default.gguf"];
  else [base, rel] = [webRoot, p.slice(1)];
  const full = path.resolve(base, rel);
  if (full !== base && !full.startsWith(base + path.sep)) return null;   // no escaping the roots
  return full;
}

export async function startServer({ port = 0, isolated = true, fixtureDir } = {}) {
  fixtureDir = fixtureDir || path.join(repoRoot, "tests/data/fixtures/models");
  const hits = new Map();
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://localhost");
    hits.set(url.pathname, (hits.get(url.pathname) || 0) + 1);
    if (isolated) {
      res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
      res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
    }
    res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
    res.setHeader("Cache-Control", "no-store");
    let file = resolvePath(url.pathname.endsWith("/") ? url.pathname + "index.html" : url.pathname, fixtureDir);
    try {
      if (!file) throw new Error("outside");
      const st = await fs.stat(file);
      if (st.isDirectory()) {
        res.writeHead(302, { location: url.pathname + "/" });
        return res.end();
      }
      res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream", "content-length": st.size });
      if (req.method === "HEAD") return res.end();
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    }
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const { port: actual } = server.address();
  return { url: `http://127.0.0.1:${actual}`, hits, close: () => new Promise((r) => server.close(r)) };
}

// `node web/tests/static_server.mjs [port]`: serve the demo at http://127.0.0.1:PORT/demo/
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s = await startServer({ port: Number(process.argv[2] || 8090) });
  console.log(`serving ${webRoot} at ${s.url}/demo/`);
}
