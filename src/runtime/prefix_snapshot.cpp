#include "runtime/prefix_snapshot.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "hearth/error.h"

namespace hearth {

namespace {

constexpr char kMagic[8] = {'H', 'E', 'A', 'R', 'T', 'H', 'K', 'V'};
constexpr uint32_t kVersion = 1;
constexpr size_t kFingerprintLen = 64;
constexpr size_t kMaxScope = 1024;
// magic, version, fingerprint, n_layer, type, kv_dim_k, kv_dim_v, n_tokens, scope length
constexpr size_t kFixedHeader = 8 + 4 + kFingerprintLen + 4 + 4 + 4 + 4 + 8 + 4;
constexpr size_t kDigest = 32;

size_t elem(KvType t) { return t == KvType::F16 ? 2 : 4; }
const char* type_name(uint32_t t) { return t == 0 ? "f16" : t == 1 ? "f32" : "unknown"; }

void sha256(const uint8_t* data, size_t n, uint8_t out[kDigest]) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 || EVP_DigestUpdate(ctx.get(), data, n) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out, &len) != 1 || len != kDigest)
    throw Error("sha-256 is unavailable");
}

class Writer {
 public:
  std::vector<uint8_t> bytes;
  void raw(const void* p, size_t n) {
    if (n == 0) return;
    const size_t at = bytes.size();
    bytes.resize(at + n);
    std::memcpy(bytes.data() + at, p, n);
  }
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
};

// Reads fields from a buffer whose total size was already checked for the fixed header.
class Reader {
 public:
  explicit Reader(const std::vector<uint8_t>& b) : b_(b) {}
  void raw(void* p, size_t n) {
    std::memcpy(p, b_.data() + at_, n);
    at_ += n;
  }
  uint32_t u32() { uint32_t v; raw(&v, 4); return v; }
  uint64_t u64() { uint64_t v; raw(&v, 8); return v; }
  size_t at() const { return at_; }

 private:
  const std::vector<uint8_t>& b_;
  size_t at_ = 0;
};

std::vector<uint8_t> read_whole(const std::string& path, size_t limit) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(fmt::format("snapshot {}: {}", path, ec.message()));
  if (size > limit)
    throw Error(fmt::format("snapshot {}: {} bytes is more than a snapshot for this model can be ({} bytes)", path,
                            size, limit));
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> b(static_cast<size_t>(size));
  if (!in || !in.read(reinterpret_cast<char*>(b.data()), std::streamsize(b.size())))
    throw Error(fmt::format("snapshot {}: cannot read it", path));
  return b;
}

}  // namespace

void write_snapshot_file(const std::string& path, const PrefixSnapshot& s, const SnapshotLayout& l) {
  Writer w;
  w.raw(kMagic, 8);
  w.u32(kVersion);
  if (l.fingerprint.size() != kFingerprintLen) throw Error("snapshot: model fingerprint must be 64 hex digits");
  w.raw(l.fingerprint.data(), kFingerprintLen);
  w.u32(uint32_t(l.n_layer));
  w.u32(l.type == KvType::F16 ? 0 : 1);
  w.u32(uint32_t(l.kv_dim_k));
  w.u32(uint32_t(l.kv_dim_v));
  w.u64(s.tokens.size());
  w.u32(uint32_t(s.scope.size()));
  w.raw(s.scope.data(), s.scope.size());
  w.raw(s.tokens.data(), s.tokens.size() * sizeof(TokenId));
  w.raw(s.k.data(), s.k.size());
  w.raw(s.v.data(), s.v.size());
  uint8_t digest[kDigest];
  sha256(w.bytes.data(), w.bytes.size(), digest);
  w.raw(digest, kDigest);

  // Written beside the target and renamed, so a crash never leaves a half-written snapshot under its name.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !out.write(reinterpret_cast<const char*>(w.bytes.data()), std::streamsize(w.bytes.size())) ||
        !out.flush())
      throw Error(fmt::format("snapshot {}: cannot write it", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error(fmt::format("snapshot {}: cannot rename into place: {}", path, ec.message()));
}

std::string snapshot_file_fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[8 + 4 + kFingerprintLen];
  if (!in || !in.read(head, sizeof head) || std::memcmp(head, kMagic, 8) != 0) return "";
  return std::string(head + 12, kFingerprintLen);
}

PrefixSnapshot read_snapshot_file(const std::string& path, const SnapshotLayout& l) {
  const size_t e = elem(l.type);
  const size_t per_token = sizeof(TokenId) + size_t(l.n_layer) * size_t(l.kv_dim_k + l.kv_dim_v) * e;
  const size_t limit = kFixedHeader + kMaxScope + size_t(l.n_ctx) * per_token + kDigest;
  const std::vector<uint8_t> b = read_whole(path, limit);
  if (b.size() < kFixedHeader + kDigest || std::memcmp(b.data(), kMagic, 8) != 0)
    throw Error(fmt::format("snapshot {}: not a hearth KV snapshot (bad magic or too short)", path));

  Reader r(b);
  char magic[8];
  r.raw(magic, 8);
  const uint32_t version = r.u32();
  if (version != kVersion)
    throw Error(fmt::format("snapshot {}: format version {}, this hearth reads version {}", path, version, kVersion));
  std::string fingerprint(kFingerprintLen, '\0');
  r.raw(fingerprint.data(), kFingerprintLen);
  if (fingerprint != l.fingerprint)
    throw Error(fmt::format("snapshot {}: made for model {}, this endpoint runs model {}", path,
                            fingerprint.substr(0, 16), l.fingerprint.substr(0, 16)));
  const uint32_t n_layer = r.u32(), type = r.u32(), dim_k = r.u32(), dim_v = r.u32();
  const uint32_t want_type = l.type == KvType::F16 ? 0 : 1;
  if (n_layer != l.n_layer)
    throw Error(fmt::format("snapshot {}: {} layers, the model has {}", path, n_layer, l.n_layer));
  if (type != want_type)
    throw Error(fmt::format("snapshot {}: KV type {}, this endpoint's cache is {}", path, type_name(type),
                            type_name(want_type)));
  if (dim_k != l.kv_dim_k || dim_v != l.kv_dim_v)
    throw Error(fmt::format("snapshot {}: KV widths {}/{}, the model's are {}/{}", path, dim_k, dim_v, l.kv_dim_k,
                            l.kv_dim_v));
  const uint64_t n_tokens = r.u64();
  if (n_tokens < 1 || n_tokens >= uint64_t(l.n_ctx))
    throw Error(fmt::format("snapshot {}: {} tokens do not fit this endpoint's context of {} (at most {})", path,
                            n_tokens, l.n_ctx, l.n_ctx - 1));
  const uint32_t scope_len = r.u32();
  if (scope_len > kMaxScope) throw Error(fmt::format("snapshot {}: scope of {} bytes (at most {})", path, scope_len, kMaxScope));
  const size_t expected = kFixedHeader + scope_len + size_t(n_tokens) * per_token + kDigest;
  if (b.size() != expected)
    throw Error(fmt::format("snapshot {}: {} bytes, but its header describes {} (truncated or damaged)", path,
                            b.size(), expected));
  uint8_t digest[kDigest];
  sha256(b.data(), b.size() - kDigest, digest);
  if (std::memcmp(digest, b.data() + b.size() - kDigest, kDigest) != 0)
    throw Error(fmt::format("snapshot {}: checksum mismatch (the file is damaged)", path));

  PrefixSnapshot s;
  s.path = path;
  s.scope.resize(scope_len);
  r.raw(s.scope.data(), scope_len);
  s.tokens.resize(size_t(n_tokens));
  r.raw(s.tokens.data(), s.tokens.size() * sizeof(TokenId));
  for (TokenId t : s.tokens)
    if (t < 0 || t >= l.n_vocab)
      throw Error(fmt::format("snapshot {}: token id {} is outside the vocabulary of {}", path, t, l.n_vocab));
  s.k.resize(size_t(l.n_layer) * size_t(n_tokens) * size_t(l.kv_dim_k) * e);
  s.v.resize(size_t(l.n_layer) * size_t(n_tokens) * size_t(l.kv_dim_v) * e);
  r.raw(s.k.data(), s.k.size());
  r.raw(s.v.data(), s.v.size());
  return s;
}

SnapshotStore::SnapshotStore(SnapshotLayout layout, std::string dir, int max_snapshots)
    : layout_(std::move(layout)), dir_(std::move(dir)), max_(size_t(std::max(1, max_snapshots))) {}

std::string SnapshotStore::file_for(const std::string& scope) const {
  // The scope is hashed so any string makes a safe file name; the model's fingerprint keeps models apart.
  uint8_t d[kDigest];
  sha256(reinterpret_cast<const uint8_t*>(scope.data()), scope.size(), d);
  std::string h;
  for (int i = 0; i < 8; i++) h += fmt::format("{:02x}", d[i]);
  return (std::filesystem::path(dir_) / (layout_.fingerprint.substr(0, 16) + "-" + h + ".hkv")).string();
}

void SnapshotStore::load_directory() {
  if (dir_.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw Error(fmt::format("snapshot directory {}: {}", dir_, ec.message()));
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec))
    if (entry.is_regular_file() && entry.path().extension() == ".hkv") files.push_back(entry.path().string());
  if (ec) throw Error(fmt::format("snapshot directory {}: {}", dir_, ec.message()));
  std::sort(files.begin(), files.end());
  for (const auto& f : files)
    if (snapshot_file_fingerprint(f) == layout_.fingerprint) keep(read_snapshot_file(f, layout_));
}

SnapshotInfo SnapshotStore::capture(const std::string& scope, const std::vector<TokenId>& tokens, const KvStore& cache,
                                    int seq) {
  if (scope.empty() || scope.size() > kMaxScope)
    throw Error(fmt::format("snapshot scope must be 1..{} bytes, not {}", kMaxScope, scope.size()));
  PrefixSnapshot s;
  s.scope = scope;
  s.tokens = tokens;
  const int64_t n = int64_t(tokens.size());
  s.k.resize(cache.snapshot_bytes_k(n));
  s.v.resize(cache.snapshot_bytes_v(n));
  cache.read_prefix(seq, n, s.k.data(), s.v.data());
  if (!dir_.empty()) {
    s.path = file_for(scope);
    write_snapshot_file(s.path, s, layout_);
  }
  return keep(std::move(s));
}

SnapshotInfo SnapshotStore::load_file(const std::string& path) { return keep(read_snapshot_file(path, layout_)); }

SnapshotInfo SnapshotStore::keep(PrefixSnapshot s) {
  std::erase_if(snapshots_, [&](const PrefixSnapshot& o) { return o.scope == s.scope; });
  if (snapshots_.size() >= max_) snapshots_.erase(snapshots_.begin());
  snapshots_.push_back(std::move(s));
  return info(snapshots_.back());
}

const PrefixSnapshot* SnapshotStore::best_match(const std::vector<TokenId>& prompt, int64_t* common) const {
  const PrefixSnapshot* best = nullptr;
  int64_t best_n = 0;
  for (const auto& s : snapshots_) {
    size_t m = 0;
    while (m < s.tokens.size() && m < prompt.size() && s.tokens[m] == prompt[m]) m++;
    if (int64_t(m) > best_n) {
      best_n = int64_t(m);
      best = &s;
    }
  }
  *common = best_n;
  return best;
}

SnapshotInfo SnapshotStore::info(const PrefixSnapshot& s) const {
  return {s.scope, layout_.fingerprint, int64_t(s.tokens.size()), s.path};
}

std::vector<SnapshotInfo> SnapshotStore::list() const {
  std::vector<SnapshotInfo> out;
  for (const auto& s : snapshots_) out.push_back(info(s));
  return out;
}

}  // namespace hearth
