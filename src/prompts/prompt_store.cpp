#include "prompts/prompt_store.h"

#include <chrono>
#include <ctime>

#include "prompts/prompt_content.h"

namespace hearth::prompts {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS prompts(
  name TEXT PRIMARY KEY,
  created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions(
  name TEXT NOT NULL REFERENCES prompts(name),
  version INTEGER NOT NULL,
  template TEXT NOT NULL,
  variables TEXT NOT NULL,
  hints TEXT NOT NULL,
  hash TEXT NOT NULL,
  author TEXT NOT NULL,
  message TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY(name, version)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stages(
  name TEXT NOT NULL REFERENCES prompts(name),
  stage TEXT NOT NULL,
  targets TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY(name, stage));
CREATE TABLE IF NOT EXISTS stage_history(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  stage TEXT NOT NULL,
  targets TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS stage_history_by_stage ON stage_history(name, stage, id);
CREATE TABLE IF NOT EXISTS audit(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  name TEXT NOT NULL,
  detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_by_name ON audit(name, id);
)sql";

constexpr const char* kVersionColumns = "name, version, template, variables, hints, hash, author, message, created_at";

PromptError not_found(const std::string& what) { return PromptError(404, "not_found", what); }

}  // namespace

std::string utc_now_iso8601() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

PromptStore::PromptStore(const std::filesystem::path& db_path) : db_(db_path) {
  // WAL + FULL: a commit returns only after the WAL is fsynced, so an acknowledged write survives a crash.
  db_.exec("PRAGMA journal_mode=WAL");
  db_.exec("PRAGMA synchronous=FULL");
  db_.exec("PRAGMA foreign_keys=ON");
  SqliteTransaction tx(db_);
  db_.exec(kSchema);
  tx.commit();
}

void PromptStore::append_audit(const std::string& actor, const std::string& action, const std::string& name,
                               const nlohmann::json& detail, const std::string& at) {
  db_.prepare("INSERT INTO audit(at, actor, action, name, detail) VALUES(?,?,?,?,?)")
      .bind(1, at).bind(2, actor).bind(3, action).bind(4, name).bind(5, detail.dump())
      .run();
}

StoredVersion PromptStore::read_version(SqliteStatement& s) {
  StoredVersion v;
  v.name = s.text(0);
  v.version = s.integer(1);
  v.content.template_text = s.text(2);
  v.hash = s.text(5);
  v.author = s.text(6);
  v.message = s.text(7);
  v.created_at = s.text(8);
  try {
    v.content.variables = variables_from_json(nlohmann::json::parse(s.text(3)));
    v.content.hints = nlohmann::json::parse(s.text(4));
  } catch (const std::exception& e) {
    throw PromptError(500, "corrupt_version", v.name + "@" + std::to_string(v.version) + ": " + e.what());
  }
  if (content_hash(v.content) != v.hash)
    throw PromptError(500, "corrupt_version",
                      v.name + "@" + std::to_string(v.version) + ": stored content does not match its sha256");
  return v;
}

void PromptStore::require_prompt(const std::string& name) {
  auto s = db_.prepare("SELECT 1 FROM prompts WHERE name = ?");
  s.bind(1, name);
  if (!s.step()) throw not_found("prompt \"" + name + "\" does not exist");
}

PromptStore::Created PromptStore::create_version(const std::string& name, const PromptContent& content,
                                                 const std::string& author, const std::string& message,
                                                 const std::string& actor) {
  std::lock_guard lock(mutex_);
  std::string hash = content_hash(content);
  std::string now = utc_now_iso8601();
  SqliteTransaction tx(db_);

  auto latest = db_.prepare(std::string("SELECT ") + kVersionColumns +
                            " FROM versions WHERE name = ? ORDER BY version DESC LIMIT 1");
  latest.bind(1, name);
  int64_t next = 1;
  if (latest.step()) {
    StoredVersion last = read_version(latest);
    if (last.hash == hash) return {std::move(last), false};  // unchanged: no new version
    next = last.version + 1;
  } else {
    db_.prepare("INSERT INTO prompts(name, created_at) VALUES(?, ?)").bind(1, name).bind(2, now).run();
  }

  nlohmann::json j = content_to_json(content);
  db_.prepare(std::string("INSERT INTO versions(") + kVersionColumns + ") VALUES(?,?,?,?,?,?,?,?,?)")
      .bind(1, name).bind(2, next).bind(3, content.template_text).bind(4, j["variables"].dump())
      .bind(5, j["hints"].dump()).bind(6, hash).bind(7, author).bind(8, message).bind(9, now)
      .run();
  append_audit(actor, "create_version", name, {{"version", next}, {"hash", hash}, {"message", message}}, now);
  tx.commit();

  StoredVersion v{name, next, content, hash, author, message, now};
  return {std::move(v), true};
}

StoredVersion PromptStore::get_version(const std::string& name, int64_t version) {
  std::lock_guard lock(mutex_);
  auto s = db_.prepare(std::string("SELECT ") + kVersionColumns + " FROM versions WHERE name = ? AND version = ?");
  s.bind(1, name).bind(2, version);
  if (!s.step()) {
    require_prompt(name);
    throw not_found("prompt \"" + name + "\" has no version " + std::to_string(version));
  }
  return read_version(s);
}

std::vector<StoredVersion> PromptStore::history(const std::string& name) {
  std::lock_guard lock(mutex_);
  require_prompt(name);
  auto s = db_.prepare(std::string("SELECT ") + kVersionColumns + " FROM versions WHERE name = ? ORDER BY version");
  s.bind(1, name);
  std::vector<StoredVersion> out;
  while (s.step()) out.push_back(read_version(s));
  return out;
}

std::optional<StageInfo> PromptStore::find_stage(const std::string& name, const std::string& stage) {
  auto s = db_.prepare(
      "SELECT targets, updated_at, updated_by, "
      "(SELECT count(*) FROM stage_history h WHERE h.name = stages.name AND h.stage = stages.stage) "
      "FROM stages WHERE name = ? AND stage = ?");
  s.bind(1, name).bind(2, stage);
  if (!s.step()) return std::nullopt;
  return StageInfo{stage, targets_from_json(nlohmann::json::parse(s.text(0))), s.text(1), s.text(2), s.integer(3)};
}

StageInfo PromptStore::get_stage(const std::string& name, const std::string& stage) {
  std::lock_guard lock(mutex_);
  if (auto info = find_stage(name, stage)) return *info;
  require_prompt(name);
  throw not_found("prompt \"" + name + "\" has no stage \"" + stage + "\"");
}

std::vector<StageInfo> PromptStore::stages(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto s = db_.prepare("SELECT stage FROM stages WHERE name = ? ORDER BY stage");
  s.bind(1, name);
  std::vector<StageInfo> out;
  while (s.step()) out.push_back(*find_stage(name, s.text(0)));
  return out;
}

std::vector<PromptSummary> PromptStore::list() {
  std::vector<PromptSummary> out;
  {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare(
        "SELECT p.name, max(v.version), max(v.created_at) FROM prompts p JOIN versions v ON v.name = p.name "
        "GROUP BY p.name ORDER BY p.name");
    while (s.step()) out.push_back({s.text(0), s.integer(1), s.text(2), {}});
  }
  for (PromptSummary& p : out) p.stages = stages(p.name);
  return out;
}

StageInfo PromptStore::promote(const std::string& name, const std::string& stage,
                               const std::vector<StageTarget>& targets, const std::string& actor) {
  std::lock_guard lock(mutex_);
  if (targets.empty()) throw PromptError(400, "invalid_request", "a stage needs at least one version");
  SqliteTransaction tx(db_);
  require_prompt(name);
  for (const StageTarget& t : targets) {
    auto s = db_.prepare("SELECT 1 FROM versions WHERE name = ? AND version = ?");
    s.bind(1, name).bind(2, t.version);
    if (!s.step()) throw not_found("prompt \"" + name + "\" has no version " + std::to_string(t.version));
  }
  std::string now = utc_now_iso8601();
  std::optional<StageInfo> previous = find_stage(name, stage);
  if (previous)
    db_.prepare("INSERT INTO stage_history(name, stage, targets) VALUES(?,?,?)")
        .bind(1, name).bind(2, stage).bind(3, targets_to_json(previous->targets).dump())
        .run();
  db_.prepare(
         "INSERT INTO stages(name, stage, targets, updated_at, updated_by) VALUES(?,?,?,?,?) "
         "ON CONFLICT(name, stage) DO UPDATE SET targets = excluded.targets, updated_at = excluded.updated_at, "
         "updated_by = excluded.updated_by")
      .bind(1, name).bind(2, stage).bind(3, targets_to_json(targets).dump()).bind(4, now).bind(5, actor)
      .run();
  append_audit(actor, "promote", name,
               {{"stage", stage},
                {"targets", targets_to_json(targets)},
                {"previous", previous ? targets_to_json(previous->targets) : nlohmann::json(nullptr)}},
               now);
  StageInfo info = *find_stage(name, stage);
  tx.commit();
  return info;
}

StageInfo PromptStore::rollback(const std::string& name, const std::string& stage, const std::string& actor) {
  std::lock_guard lock(mutex_);
  SqliteTransaction tx(db_);
  require_prompt(name);
  std::optional<StageInfo> current = find_stage(name, stage);
  if (!current) throw not_found("prompt \"" + name + "\" has no stage \"" + stage + "\"");
  auto s = db_.prepare("SELECT id, targets FROM stage_history WHERE name = ? AND stage = ? ORDER BY id DESC LIMIT 1");
  s.bind(1, name).bind(2, stage);
  if (!s.step())
    throw PromptError(409, "nothing_to_roll_back",
                      "stage \"" + stage + "\" of \"" + name + "\" has no earlier version to roll back to");
  int64_t id = s.integer(0);
  std::string previous = s.text(1);
  std::string now = utc_now_iso8601();
  db_.prepare("DELETE FROM stage_history WHERE id = ?").bind(1, id).run();
  db_.prepare("UPDATE stages SET targets = ?, updated_at = ?, updated_by = ? WHERE name = ? AND stage = ?")
      .bind(1, previous).bind(2, now).bind(3, actor).bind(4, name).bind(5, stage)
      .run();
  append_audit(actor, "rollback", name,
               {{"stage", stage}, {"from", targets_to_json(current->targets)},
                {"to", nlohmann::json::parse(previous)}},
               now);
  StageInfo info = *find_stage(name, stage);
  tx.commit();
  return info;
}

std::vector<AuditEntry> PromptStore::audit(const std::string& name) {
  std::lock_guard lock(mutex_);
  require_prompt(name);
  auto s = db_.prepare("SELECT id, at, actor, action, name, detail FROM audit WHERE name = ? ORDER BY id");
  s.bind(1, name);
  std::vector<AuditEntry> out;
  while (s.step())
    out.push_back({s.integer(0), s.text(1), s.text(2), s.text(3), s.text(4), nlohmann::json::parse(s.text(5))});
  return out;
}

}  // namespace hearth::prompts
