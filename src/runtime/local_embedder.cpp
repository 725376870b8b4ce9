#include "runtime/local_embedder.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "hearth/error.h"
#include "model/embedding_model.h"

namespace hearth {

LocalEmbedder::LocalEmbedder(std::string endpoint, std::string model_path, int threads, bool load_now)
    : endpoint_(std::move(endpoint)), path_(std::move(model_path)),
      threads_(threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()))) {
  if (load_now) {
    std::lock_guard lk(mu_);
    model();
  }
}

LocalEmbedder::~LocalEmbedder() = default;

EmbeddingModel& LocalEmbedder::model() {
  if (!model_) {
    try {
      model_ = EmbeddingModel::load(path_, threads_);
    } catch (const std::exception& e) {
      throw Error(fmt::format("endpoint '{}': embed: {}", endpoint_, e.what()));
    }
  }
  return *model_;
}

std::vector<std::vector<float>> LocalEmbedder::embed(const EmbedRequest& request) {
  if (request.inputs.empty()) throw Error(fmt::format("endpoint '{}': embed: inputs is empty", endpoint_));
  if (request.inputs.size() > 2048)
    throw Error(fmt::format("endpoint '{}': embed: {} inputs in one call (at most 2048)", endpoint_, request.inputs.size()));
  std::lock_guard lk(mu_);
  EmbeddingModel& m = model();
  try {
    return m.embed(request.inputs, request.normalize);
  } catch (const std::exception& e) {
    throw Error(fmt::format("endpoint '{}': embed: {}", endpoint_, e.what()));
  }
}

const Tokenizer& LocalEmbedder::tokenizer() {
  std::lock_guard lk(mu_);
  return model().tokenizer();
}

}  // namespace hearth
