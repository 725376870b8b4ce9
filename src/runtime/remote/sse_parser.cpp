#include "runtime/remote/sse_parser.h"

#include "hearth/error.h"

namespace hearth::remote {

void SseParser::feed(std::string_view chunk) {
  while (!chunk.empty()) {
    size_t nl = chunk.find('\n');
    if (nl == std::string_view::npos) {
      partial_.append(chunk);
      if (partial_.size() + data_.size() > max_bytes_)
        throw Error("server-sent event larger than " + std::to_string(max_bytes_) + " bytes");
      return;
    }
    std::string_view piece = chunk.substr(0, nl);
    chunk.remove_prefix(nl + 1);
    if (!partial_.empty()) {
      partial_.append(piece);
      std::string whole = std::move(partial_);
      partial_.clear();
      line(whole);
    } else {
      line(piece);
    }
  }
}

void SseParser::line(std::string_view l) {
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  if (l.empty()) {
    if (has_data_) on_event_(event_.empty() ? "message" : event_, data_);
    event_.clear();
    data_.clear();
    has_data_ = false;
    return;
  }
  if (l.front() == ':') return;  // a comment (keep-alive)
  size_t colon = l.find(':');
  std::string_view field = l.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : l.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "event") {
    event_.assign(value);
  } else if (field == "data") {
    if (has_data_) data_ += '\n';
    data_.append(value);
    has_data_ = true;
    if (data_.size() > max_bytes_) throw Error("server-sent event larger than " + std::to_string(max_bytes_) + " bytes");
  }
}

}  // namespace hearth::remote
