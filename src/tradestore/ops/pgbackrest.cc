#include "tradestore/ops/pgbackrest.h"

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/process.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/ops/pg_cluster.h"

namespace tradestore::ops {

absl::StatusOr<std::string> PgBackRest::Run(std::vector<std::string> args) {
  std::vector<std::string> argv = {"pgbackrest", "--config=" + config_,
                                   "--stanza=" + stanza_};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = internal::RunCommand(argv, user_);
  if (!r.ok()) {
    return absl::FailedPreconditionError(
        "pgbackrest is not installed (run tools/setup.sh)");
  }
  if (r->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("pgbackrest ", args.back(), " failed: ", r->output));
  }
  return r->out;
}

absl::Status PgBackRest::Backup(const std::string& type) {
  return Run({"--type=" + type, "backup"}).status();
}

absl::StatusOr<std::vector<PhysicalBackup>> PgBackRest::Backups() {
  TS_ASSIGN_OR_RETURN(const std::string out, Run({"--output=json", "info"}));
  const nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  std::vector<PhysicalBackup> backups;
  if (!j.is_array()) {
    return absl::DataLossError("pgbackrest info gave no JSON array");
  }
  for (const auto& stanza : j) {
    for (const auto& b : stanza.value("backup", nlohmann::json::array())) {
      backups.push_back({b.value("label", ""), b.value("type", ""),
                         b["timestamp"].value("start", int64_t{0}),
                         b["timestamp"].value("stop", int64_t{0})});
    }
  }
  return backups;
}

absl::Status PgBackRest::Restore(const std::string& pg_path,
                                 const std::optional<std::string>& target_time,
                                 const std::optional<std::string>& set) {
  TS_RETURN_IF_ERROR(MakeServiceDir(pg_path, user_));
  std::vector<std::string> args = {"--pg1-path=" + pg_path,
                                   "--archive-mode=off"};
  if (target_time) {
    args.push_back("--type=time");
    args.push_back("--target=" + *target_time);
    args.push_back("--target-action=promote");
  }
  if (set) args.push_back("--set=" + *set);
  args.push_back("restore");
  return Run(args).status();
}

absl::Status PgBackRest::Verify() {
  TS_ASSIGN_OR_RETURN(const std::string out, Run({"verify"}));
  for (const char* bad : {"invalid", "missing", "error", "corrupt"}) {
    if (absl::StrContains(out, bad)) {
      return absl::DataLossError(absl::StrCat("pgbackrest verify: ", out));
    }
  }
  return absl::OkStatus();
}

}  // namespace tradestore::ops
