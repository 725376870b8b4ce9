# The browser build, included by the top-level CMakeLists.txt when the toolchain is Emscripten
# (scripts/build_wasm.sh configures the `wasm` and `wasm-single` presets). Only the layers the engine
# needs are built; apps, tests, servers and the registry stay native.
option(HEARTH_WASM_THREADS "pthreads build (needs a cross-origin isolated page)" ON)

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

# Every object must agree on these: wasm exceptions (hearth::Error crosses layers), SIMD128, and shared
# memory in the threaded artifact.
add_compile_options(-fwasm-exceptions -msimd128)
add_link_options(-fwasm-exceptions)
if(HEARTH_WASM_THREADS)
  add_compile_options(-pthread)
  add_link_options(-pthread)
endif()

add_subdirectory(src/gguf)
add_subdirectory(src/tokenizer)
add_subdirectory(src/template)
add_subdirectory(src/backend/cpu)
# Compiled so the engine links; its device layer loads Dawn natively, which a browser tab cannot, so the
# browser runs on the CPU until a browser device layer (navigator.gpu) exists.
add_subdirectory(src/backend/webgpu)
add_subdirectory(src/model)
add_subdirectory(src/engine)
add_subdirectory(src/wasm)
