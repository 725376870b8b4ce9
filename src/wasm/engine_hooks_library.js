// Callbacks from the WebGPU artifact's engine entry point (hearth_call in engine_binding.cpp) to the
// worker: load progress and streamed pieces. The worker sets Module.hearthProgress / Module.hearthPiece
// before each call; a piece callback returning false cancels the generation.
mergeInto(LibraryManager.library, {
  hearth_js_progress: function(fraction) {
    if (Module["hearthProgress"]) Module["hearthProgress"](fraction);
  },
  hearth_js_piece: function(ptr, length) {
    if (!Module["hearthPiece"]) return 1;
    return Module["hearthPiece"](UTF8ToString(ptr, length)) === false ? 0 : 1;
  },
});
