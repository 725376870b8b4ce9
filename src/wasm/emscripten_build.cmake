# The browser build, included by the top-level CMakeLists.txt when the toolchain is Emscripten
# (scripts/build_wasm.sh configures the `wasm` and `wasm-single` presets). Only the layers the engine
# needs are built; apps, tests, servers and the registry stay native.
option(HEARTH_WASM_THREADS "pthreads build (needs a cross-origin isolated page)" ON)
# The WebGPU artifact (hearth-webgpu): the browser device layer over navigator.gpu, whose promises the
# synchronous engine waits on through Asyncify. One thread; JavaScript-based C++ exceptions, because
# Binaryen's Asyncify pass in emscripten 3.1.6 aborts on wasm exception-handling instructions.
option(HEARTH_WASM_WEBGPU "WebGPU artifact (Asyncify, navigator.gpu)" OFF)
if(HEARTH_WASM_WEBGPU AND HEARTH_WASM_THREADS)
  message(FATAL_ERROR "HEARTH_WASM_WEBGPU is a single-thread artifact: set HEARTH_WASM_THREADS=OFF")
endif()

# nlohmann/json and fmt are header-only here, taken from the host's Debian packages through symlinks so
# that no other host header (glibc's) can enter the wasm include path.
set(hearth_host_headers ${CMAKE_BINARY_DIR}/host_headers)
file(MAKE_DIRECTORY ${hearth_host_headers})
foreach(dir nlohmann fmt)
  if(NOT EXISTS /usr/include/${dir})
    message(FATAL_ERROR "/usr/include/${dir} is missing: install nlohmann-json3-dev and libfmt-dev (scripts/setup.sh)")
  endif()
  file(CREATE_LINK /usr/include/${dir} ${hearth_host_headers}/${dir} SYMBOLIC)
endforeach()
add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
target_include_directories(nlohmann_json::nlohmann_json SYSTEM INTERFACE ${hearth_host_headers})
add_library(fmt::fmt INTERFACE IMPORTED)
target_include_directories(fmt::fmt SYSTEM INTERFACE ${hearth_host_headers})
target_compile_definitions(fmt::fmt INTERFACE FMT_HEADER_ONLY=1)
add_library(Threads::Threads INTERFACE IMPORTED)   # -pthread is set for every object below

# Every object must agree on these: the exception model (hearth::Error crosses layers), SIMD128, and shared
# memory in the threaded artifact. The CPU artifacts use wasm exceptions (no cost until a throw).
if(HEARTH_WASM_WEBGPU)
  add_compile_options(-fexceptions -msimd128)
  add_link_options(-fexceptions)
else()
  add_compile_options(-fwasm-exceptions -msimd128)
  add_link_options(-fwasm-exceptions)
endif()
if(HEARTH_WASM_THREADS)
  add_compile_options(-pthread)
  add_link_options(-pthread)
endif()

add_subdirectory(src/gguf)
add_subdirectory(src/tokenizer)
add_subdirectory(src/template)
add_subdirectory(src/backend/cpu)
# The CPU artifacts compile the native device layer only so the engine links (a tab cannot load Dawn, so
# WebGPU is unavailable there); the WebGPU artifact compiles the navigator.gpu one (device_browser.cpp).
add_subdirectory(src/backend/webgpu)
add_subdirectory(src/model)
add_subdirectory(src/engine)
add_subdirectory(src/wasm)
