#pragma once
// The registry's storage: one SQLite file in WAL mode with synchronous=FULL, so a write that was
// acknowledged survives a crash of the process or the machine. Every change is one transaction that also
// appends its audit record.
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hearth/prompts.h"
#include "prompts/sqlite_db.h"
#include "prompts/stage_split.h"

namespace hearth::prompts {

struct StoredVersion {
  std::string name;
  int64_t version = 0;
  PromptContent content;
  std::string hash;
  std::string author;
  std::string message;
  std::string created_at;  // ISO 8601 UTC
};

struct StageInfo {
  std::string stage;
  std::vector<StageTarget> targets;
  std::string updated_at;
  std::string updated_by;
  int64_t previous_count = 0;  // how many rollbacks are possible
};

struct PromptSummary {
  std::string name;
  int64_t latest_version = 0;
  std::string updated_at;
  std::vector<StageInfo> stages;
};

struct AuditEntry {
  int64_t id = 0;
  std::string at;
  std::string actor;
  std::string action;
  std::string name;
  nlohmann::json detail;
};

class PromptStore {
 public:
  explicit PromptStore(const std::filesystem::path& db_path);

  struct Created {
    StoredVersion version;
    bool created = false;  // false: content equal to the latest version, nothing written
  };
  // content must already be validated. actor: the authenticated identity, for the audit log.
  Created create_version(const std::string& name, const PromptContent& content, const std::string& author,
                         const std::string& message, const std::string& actor);

  // Throws PromptError(404) when missing; PromptError(500) when the stored hash does not verify.
  StoredVersion get_version(const std::string& name, int64_t version);
  std::vector<StoredVersion> history(const std::string& name);
  std::vector<PromptSummary> list();

  StageInfo get_stage(const std::string& name, const std::string& stage);
  std::vector<StageInfo> stages(const std::string& name);
  // Sets the label; the assignment it replaces is kept for rollback.
  StageInfo promote(const std::string& name, const std::string& stage, const std::vector<StageTarget>& targets,
                    const std::string& actor);
  // Moves the label back to the assignment before the last promote. PromptError(409) when there is none.
  StageInfo rollback(const std::string& name, const std::string& stage, const std::string& actor);

  std::vector<AuditEntry> audit(const std::string& name);

 private:
  void require_prompt(const std::string& name);
  std::optional<StageInfo> find_stage(const std::string& name, const std::string& stage);
  void append_audit(const std::string& actor, const std::string& action, const std::string& name,
                    const nlohmann::json& detail, const std::string& at);
  StoredVersion read_version(SqliteStatement& s);

  std::mutex mutex_;  // one connection, used by one request at a time
  SqliteDb db_;
};

std::string utc_now_iso8601();

}  // namespace hearth::prompts
