// hearth's WebGPU bridge for the browser build (linked with --js-library into the hearth-webgpu artifact):
// the calls src/backend/webgpu/device_browser.cpp makes, over navigator.gpu. WebGPU objects live in a
// table and C++ holds their integer ids. Calls that wait on a promise (adapter/device, buffer creation
// inside an error scope, pipeline compilation, mapped reads, queue drain) go through Asyncify: the wasm
// stack unwinds while the promise settles. Those functions never reject: they return 0 and leave the
// message for hearth_gpu_take_error, because a rejected promise would leave the wasm stack suspended.
// Sizes and offsets travel as doubles (exact below 2^53; no BigInt in emscripten 3.1.6's ABI).

mergeInto(LibraryManager.library, {
  $HearthGpu: {
    objects: [null],   // id -> WebGPU object (0 is never used)
    free: [],
    device: null,      // {adapter, device, queue, error, lost, info}
    refs: 0,           // open C++ Devices sharing it (the engine may probe while a test holds one)
    // Where the time goes (Module.hearthGpuStats()): calls and milliseconds spent waiting on the GPU.
    stats: { dispatches: 0, submits: 0, reads: 0, readWaitMs: 0, buffers: 0, bufferWaitMs: 0, pipelines: 0, idleWaits: 0 },
    add: function(o) {
      var id = HearthGpu.free.length ? HearthGpu.free.pop() : HearthGpu.objects.length;
      HearthGpu.objects[id] = o;
      return id;
    },
    get: function(id) {
      var o = HearthGpu.objects[id];
      if (!o) throw new Error("hearth WebGPU: unknown object id " + id);
      return o;
    },
    remove: function(id) {
      if (!id || !HearthGpu.objects[id]) return;
      HearthGpu.objects[id] = null;
      HearthGpu.free.push(id);
    },
    // Keeps the first error until C++ takes it (as the native layer does).
    fail: function(message) {
      var d = HearthGpu.device;
      if (d && !d.error) d.error = message;
      else if (!d) HearthGpu.openError = message;
    },
    errorKind: function(e) {
      if (typeof GPUValidationError != "undefined" && e instanceof GPUValidationError) return "validation error";
      if (typeof GPUOutOfMemoryError != "undefined" && e instanceof GPUOutOfMemoryError) return "out of GPU memory";
      if (typeof GPUInternalError != "undefined" && e instanceof GPUInternalError) return "internal error";
      return "error";
    },
    openError: "",
  },

  // Exposes the counters to the page or harness as Module.hearthGpuStats() (a copy).
  $HearthGpuStatsExport__deps: ["$HearthGpu"],
  $HearthGpuStatsExport__postset: 'Module["hearthGpuStats"] = function() { return Object.assign({}, HearthGpu.stats); };',
  $HearthGpuStatsExport: {},

  // 1 with a device open, 0 with the reason left for hearth_gpu_take_error.
  hearth_gpu_open__deps: ["$HearthGpu", "$HearthGpuStatsExport"],
  hearth_gpu_open: function() {
    return Asyncify.handleAsync(async function() {
      if (HearthGpu.device && !HearthGpu.device.lost) {
        HearthGpu.refs++;
        return 1;
      }
      try {
        var gpu = typeof navigator != "undefined" ? navigator.gpu : undefined;
        if (!gpu) throw new Error("navigator.gpu is missing (this browser or context has no WebGPU)");
        var adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
        if (!adapter) throw new Error("no adapter found");
        var info = adapter.info || (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
        // The adapter's full limits where hearth can use them (the defaults cap storage bindings at 128 MiB).
        var wanted = ["maxStorageBufferBindingSize", "maxBufferSize", "maxComputeWorkgroupsPerDimension",
          "maxStorageBuffersPerShaderStage", "maxComputeWorkgroupStorageSize", "maxComputeInvocationsPerWorkgroup",
          "maxComputeWorkgroupSizeX", "maxComputeWorkgroupSizeY", "maxComputeWorkgroupSizeZ", "maxBindingsPerBindGroup",
          "maxUniformBufferBindingSize"];
        var limits = {};
        wanted.forEach(function(k) { if (adapter.limits[k] !== undefined) limits[k] = adapter.limits[k]; });
        var features = [];
        ["shader-f16", "subgroups"].forEach(function(f) { if (adapter.features.has(f)) features.push(f); });
        var device = await adapter.requestDevice({ label: "hearth", requiredFeatures: features, requiredLimits: limits });
        var d = { adapter: adapter, device: device, queue: device.queue, error: "", lost: false };
        device.onuncapturederror = function(ev) {
          if (!d.error) d.error = HearthGpu.errorKind(ev.error) + ": " + ev.error.message;
        };
        device.lost.then(function(l) {
          if (l.reason === "destroyed") return;   // our own teardown
          d.lost = true;
          if (!d.error) d.error = "GPU device lost: " + l.message;
        });
        d.info = {
          vendor: info.vendor || "", architecture: info.architecture || "", device: info.device || "",
          description: info.description || "",
          shaderF16: device.features.has("shader-f16"), subgroups: device.features.has("subgroups"),
          timestampQuery: adapter.features.has("timestamp-query"),
          maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
          maxBufferSize: device.limits.maxBufferSize,
          maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
          maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage,
          minStorageBufferOffsetAlignment: device.limits.minStorageBufferOffsetAlignment,
        };
        HearthGpu.device = d;
        HearthGpu.refs = 1;
        return 1;
      } catch (e) {
        HearthGpu.openError = "WebGPU: " + (e && e.message ? e.message : String(e));
        return 0;
      }
    });
  },

  // The open device's adapter info and limits as JSON (malloc'd; the caller frees it).
  hearth_gpu_info_json__deps: ["$HearthGpu"],
  hearth_gpu_info_json: function() {
    return allocateUTF8(JSON.stringify(HearthGpu.device ? HearthGpu.device.info : {}));
  },

  hearth_gpu_close__deps: ["$HearthGpu"],
  hearth_gpu_close: function() {
    var d = HearthGpu.device;
    if (!d || --HearthGpu.refs > 0) return;
    // Objects stay in the table until their C++ owners release them (ids must not be reused under them).
    HearthGpu.device = null;
    d.device.destroy();
  },

  // The first error reported since the last call (malloc'd), or 0.
  hearth_gpu_take_error__deps: ["$HearthGpu"],
  hearth_gpu_take_error: function() {
    var d = HearthGpu.device;
    var message = d ? d.error : HearthGpu.openError;
    if (!message) return 0;
    if (d) d.error = "";
    else HearthGpu.openError = "";
    return allocateUTF8(message);
  },

  hearth_gpu_lost__deps: ["$HearthGpu"],
  hearth_gpu_lost: function() {
    return HearthGpu.device && HearthGpu.device.lost ? 1 : 0;
  },

  // kind: 0 storage (+ copy src/dst), 1 uniform (+ copy dst), 2 map-read (+ copy dst). Storage and uniform
  // buffers are created inside an out-of-memory error scope, as the native layer does.
  hearth_gpu_create_buffer__deps: ["$HearthGpu"],
  hearth_gpu_create_buffer: function(size, kind, label) {
    return Asyncify.handleAsync(async function() {
      var d = HearthGpu.device;
      var name = UTF8ToString(label);
      try {
        var usage = kind === 1 ? GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST
          : kind === 2 ? GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST
          : GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
        HearthGpu.stats.buffers++;
        if (kind === 2) return HearthGpu.add(d.device.createBuffer({ label: name, size: size, usage: usage }));
        var t0 = performance.now();
        d.device.pushErrorScope("out-of-memory");
        var b = d.device.createBuffer({ label: name, size: size, usage: usage });
        var e = await d.device.popErrorScope();
        HearthGpu.stats.bufferWaitMs += performance.now() - t0;
        if (e) {
          b.destroy();
          HearthGpu.fail("out of GPU memory allocating " + size + " bytes (" + name + "): " + e.message);
          return 0;
        }
        return HearthGpu.add(b);
      } catch (e) {
        HearthGpu.fail("cannot create a buffer of " + size + " bytes (" + name + "): " + (e.message || e));
        return 0;
      }
    });
  },

  hearth_gpu_release__deps: ["$HearthGpu"],
  hearth_gpu_release: function(id, destroy) {
    var o = HearthGpu.objects[id];
    if (!o) return;
    if (destroy && o.destroy) o.destroy();
    HearthGpu.remove(id);
  },

  hearth_gpu_write__deps: ["$HearthGpu"],
  hearth_gpu_write: function(buffer, offset, ptr, bytes) {
    HearthGpu.device.queue.writeBuffer(HearthGpu.get(buffer), offset, HEAPU8, ptr, bytes);
  },

  // Compiles `wgsl` into a compute pipeline (entry point main, layout auto). Writes the pipeline's and its
  // bind group layout's ids to out[0], out[1]; returns 0 with the compiler's messages on failure.
  hearth_gpu_pipeline__deps: ["$HearthGpu"],
  hearth_gpu_pipeline: function(name_ptr, wgsl_ptr, out) {
    return Asyncify.handleAsync(async function() {
      var d = HearthGpu.device;
      var name = UTF8ToString(name_ptr);
      var module = null;
      HearthGpu.stats.pipelines++;
      try {
        module = d.device.createShaderModule({ label: name, code: UTF8ToString(wgsl_ptr) });
        var pipeline = await d.device.createComputePipelineAsync({
          label: name, layout: "auto", compute: { module: module, entryPoint: "main" },
        });
        HEAP32[out >> 2] = HearthGpu.add(pipeline);
        HEAP32[(out >> 2) + 1] = HearthGpu.add(pipeline.getBindGroupLayout(0));
        return 1;
      } catch (e) {
        var detail = e && e.message ? e.message : String(e);
        try {
          var ci = module ? await module.getCompilationInfo() : null;
          var lines = ci ? ci.messages.filter(function(m) { return m.type === "error"; })
            .map(function(m) { return m.lineNum + ":" + m.linePos + ": " + m.message; }) : [];
          if (lines.length) detail = lines.join("\n");
        } catch (_) { /* keep the pipeline error */ }
        HearthGpu.fail("kernel " + name + " failed to compile: " + detail);
        return 0;
      }
    });
  },

  // entries: count x [binding, buffer id, offset, size] doubles.
  hearth_gpu_bind__deps: ["$HearthGpu"],
  hearth_gpu_bind: function(layout, label, entries, count) {
    var list = [];
    for (var i = 0; i < count; i++) {
      var p = (entries >> 3) + 4 * i;
      list.push({ binding: HEAPF64[p], resource: { buffer: HearthGpu.get(HEAPF64[p + 1]), offset: HEAPF64[p + 2], size: HEAPF64[p + 3] } });
    }
    try {
      return HearthGpu.add(HearthGpu.device.device.createBindGroup({ label: UTF8ToString(label), layout: HearthGpu.get(layout), entries: list }));
    } catch (e) {
      HearthGpu.fail("cannot create a bind group (" + UTF8ToString(label) + "): " + (e.message || e));
      return 0;
    }
  },

  hearth_gpu_encoder__deps: ["$HearthGpu"],
  hearth_gpu_encoder: function() {
    return HearthGpu.add(HearthGpu.device.device.createCommandEncoder());
  },

  hearth_gpu_begin_pass__deps: ["$HearthGpu"],
  hearth_gpu_begin_pass: function(encoder) {
    return HearthGpu.add(HearthGpu.get(encoder).beginComputePass());
  },

  hearth_gpu_end_pass__deps: ["$HearthGpu"],
  hearth_gpu_end_pass: function(pass) {
    HearthGpu.get(pass).end();
    HearthGpu.remove(pass);
  },

  hearth_gpu_dispatch__deps: ["$HearthGpu"],
  hearth_gpu_dispatch: function(pass, pipeline, group, x, y, z) {
    var p = HearthGpu.objects[pass];
    p.setPipeline(HearthGpu.objects[pipeline]);
    p.setBindGroup(0, HearthGpu.objects[group]);
    p.dispatchWorkgroups(x, y, z);
    HearthGpu.stats.dispatches++;
  },

  hearth_gpu_copy__deps: ["$HearthGpu"],
  hearth_gpu_copy: function(encoder, src, src_offset, dst, dst_offset, bytes) {
    HearthGpu.get(encoder).copyBufferToBuffer(HearthGpu.get(src), src_offset, HearthGpu.get(dst), dst_offset, bytes);
  },

  // Finishes the encoder (its id is released) and submits it.
  hearth_gpu_submit__deps: ["$HearthGpu"],
  hearth_gpu_submit: function(encoder) {
    var e = HearthGpu.get(encoder);
    HearthGpu.remove(encoder);
    HearthGpu.device.queue.submit([e.finish()]);
    HearthGpu.stats.submits++;
  },

  // Maps a MAP_READ buffer after all submitted work, copies `bytes` into the heap at dst, unmaps.
  hearth_gpu_read_mapped__deps: ["$HearthGpu"],
  hearth_gpu_read_mapped: function(buffer, dst, bytes, padded) {
    return Asyncify.handleAsync(async function() {
      var b = HearthGpu.get(buffer);
      var t0 = performance.now();
      HearthGpu.stats.reads++;
      try {
        await b.mapAsync(GPUMapMode.READ, 0, padded);
        HearthGpu.stats.readWaitMs += performance.now() - t0;
        HEAPU8.set(new Uint8Array(b.getMappedRange(0, padded), 0, bytes), dst);
        b.unmap();
        return 1;
      } catch (e) {
        HearthGpu.fail("read-back failed: " + (e.message || e));
        return 0;
      }
    });
  },

  hearth_gpu_wait_idle__deps: ["$HearthGpu"],
  hearth_gpu_wait_idle: function() {
    return Asyncify.handleAsync(async function() {
      HearthGpu.stats.idleWaits++;
      try {
        await HearthGpu.device.queue.onSubmittedWorkDone();
      } catch (e) {
        HearthGpu.fail("waiting for the queue failed: " + (e.message || e));
      }
      return 1;
    });
  },
});
