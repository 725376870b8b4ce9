// The WebAssembly SIMD128 dot products against the scalar reference, run as wasm in Node
// (src/wasm/kernel_check.cpp, built by scripts/build_wasm.sh into build/wasm-single/dist).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

import { repoRoot } from "./static_server.mjs";

test("SIMD128 kernels: quantized types bit-exact with scalar, float types within 1e-5 of sum |w x|", () => {
  const check = path.join(repoRoot, "build/wasm-single/dist/hearth_wasm_kernel_check.js");
  assert.ok(existsSync(check), `${check} is missing: run scripts/build_wasm.sh`);
  const r = spawnSync(process.execPath, [check], { encoding: "utf8" });
  const out = r.stdout + r.stderr;
  for (const type of ["Q4_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "F32", "F16", "BF16"])
    assert.match(out, new RegExp(`^ok ${type}: 0 mismatches`, "m"), `${type}:\n${out}`);
  assert.match(out, /active table: wasm-simd128/);
  assert.equal(r.status, 0, out);
});
