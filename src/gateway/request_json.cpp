#include "gateway/request_json.h"

#include <set>
#include <vector>

#include "gateway/api_error.h"

namespace hearth::gateway {

namespace {

// Builds the DOM like nlohmann's own parser, but remembers the keys of each open object.
class StrictSax : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit StrictSax(nlohmann::json& root) : root_(root) {}

  bool null() override { return value(nullptr); }
  bool boolean(bool v) override { return value(v); }
  bool number_integer(number_integer_t v) override { return value(v); }
  bool number_unsigned(number_unsigned_t v) override { return value(v); }
  bool number_float(number_float_t v, const string_t&) override { return value(v); }
  bool string(string_t& v) override { return value(std::move(v)); }
  bool binary(binary_t&) override { return fail("binary values are not JSON"); }
  bool start_object(std::size_t) override {
    nlohmann::json* obj = place(nlohmann::json::object());
    stack_.push_back({obj, {}});
    return true;
  }
  bool key(string_t& k) override {
    Frame& f = stack_.back();
    if (!f.keys.insert(k).second) return fail("duplicate key \"" + k + "\"");
    pending_key_ = k;
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    nlohmann::json* arr = place(nlohmann::json::array());
    stack_.push_back({arr, {}});
    return true;
  }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    // nlohmann's message names the byte position and what it expected, never more of the body.
    std::string what = e.what();
    auto colon = what.find("] ");
    return fail("malformed JSON: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
  }

  const std::string& error() const { return error_; }

 private:
  struct Frame {
    nlohmann::json* node;
    std::set<std::string> keys;
  };
  nlohmann::json* place(nlohmann::json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    nlohmann::json& parent = *stack_.back().node;
    if (parent.is_object()) return &(parent[pending_key_] = std::move(v));
    parent.push_back(std::move(v));
    return &parent.back();
  }
  template <class T>
  bool value(T&& v) {
    place(nlohmann::json(std::forward<T>(v)));
    return true;
  }
  bool fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  nlohmann::json& root_;
  std::vector<Frame> stack_;
  std::string pending_key_;
  std::string error_;
};

}  // namespace

nlohmann::json parse_request_json(std::string_view body) {
  nlohmann::json root;
  StrictSax sax(root);
  bool ok = nlohmann::json::sax_parse(body.begin(), body.end(), &sax, nlohmann::json::input_format_t::json, true);
  if (!ok) throw ApiError(400, sax.error().empty() ? "malformed JSON" : sax.error());
  if (!root.is_object()) throw ApiError(400, "the request body must be a JSON object");
  return root;
}

}  // namespace hearth::gateway
