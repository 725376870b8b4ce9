// main() of the WebGPU op tests in the browser build. The tests suspend on the GPU's promises (Asyncify),
// so main() returns to the page long before the tests end; the result reaches the page through
// Module.hearthTestsDone(failed) instead of the process exit status.
#include <emscripten.h>
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  const int failed = RUN_ALL_TESTS();
  EM_ASM({ if (Module["hearthTestsDone"]) Module["hearthTestsDone"]($0); }, failed);
  return failed;
}
