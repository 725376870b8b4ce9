#pragma once
// Embeddings on a local endpoint: the model loaded as an EmbeddingModel on first use (a decoder endpoint
// may never embed), or at once for an encoder GGUF, whose endpoint does nothing else. Calls run on the
// caller's thread, one at a time.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "hearth/client.h"

namespace hearth {

class EmbeddingModel;

class LocalEmbedder {
 public:
  LocalEmbedder(std::string endpoint, std::string model_path, int threads, bool load_now);
  ~LocalEmbedder();
  std::vector<std::vector<float>> embed(const EmbedRequest& request);
  const Tokenizer& tokenizer();

 private:
  EmbeddingModel& model();   // with mu_ held
  std::string endpoint_, path_;
  int threads_;
  std::mutex mu_;
  std::unique_ptr<EmbeddingModel> model_;
};

}  // namespace hearth
