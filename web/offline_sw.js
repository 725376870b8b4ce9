// The demo's service worker: keeps the page's own files (HTML, JS, WASM) so it opens offline after the
// first visit. Network first, so a new build is picked up whenever the server is reachable. Models are not
// cached here: they live in OPFS (src/worker/opfs_shards.js).
/* global self, caches */
"use strict";
const CACHE = "hearth-web-v1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.endsWith(".gguf")) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(request);
      if (response.ok) await cache.put(request, response.clone());
      return response;
    } catch (e) {
      const hit = await cache.match(request, { ignoreSearch: true });
      if (hit) return hit;
      throw e;
    }
  })());
});
