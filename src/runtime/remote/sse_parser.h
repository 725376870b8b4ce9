#pragma once
// Server-sent events, parsed incrementally from whatever chunks the network delivers: `event:` and `data:`
// lines, dispatched at each blank line. A line longer than the bound is an error, not an allocation.
#include <functional>
#include <string>
#include <string_view>

namespace hearth::remote {

class SseParser {
 public:
  using Handler = std::function<void(const std::string& event, const std::string& data)>;
  explicit SseParser(Handler on_event, size_t max_event_bytes = 16u << 20)
      : on_event_(std::move(on_event)), max_bytes_(max_event_bytes) {}

  // Throws hearth::Error when an event exceeds the bound.
  void feed(std::string_view chunk);

 private:
  void line(std::string_view l);
  Handler on_event_;
  size_t max_bytes_;
  std::string partial_;  // an unfinished line
  std::string event_, data_;
  bool has_data_ = false;
};

}  // namespace hearth::remote
