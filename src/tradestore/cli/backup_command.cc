// tradestore backup [list]: the daily logical backup to cloud storage, and
// what a destination holds.
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/command.h"
#include "tradestore/ops/backup.h"

namespace tradestore::cli {
namespace {

int List(Invocation& call) {
  const std::string from =
      call.args.Get("from").value_or(call.args.Get("to").value_or(""));
  if (from.empty()) return call.UsageError("list needs --from DEST");
  auto entries = ops::ListBackups(from);
  if (!entries.ok()) return call.Fail(entries.status()), kExitUsage;
  nlohmann::json j = nlohmann::json::array();
  for (const ops::BackupEntry& e : *entries) {
    call.out << absl::StrFormat("%s  %s  %d bytes\n", e.name,
                                e.created_at.ToIso8601(), e.size);
    j.push_back({{"name", e.name},
                 {"created_at", e.created_at.ToIso8601()},
                 {"size", e.size}});
  }
  if (entries->empty()) call.out << "no backup at " << from << "\n";
  return call.WriteReport("json", j.dump(2) + "\n") ? kExitOk : kExitUsage;
}

int Run(Invocation& call) {
  if (!call.operands.empty()) {
    if (call.operands[0] != "list") {
      return call.UsageError("backup takes no argument but `list`");
    }
    return List(call);
  }
  ops::BackupOptions options;
  options.pg = call.pg;
  options.to = call.args.Get("to").value_or("");
  if (options.to.empty()) return call.UsageError("--to DEST is required");
  options.keep_days =
      static_cast<int>(call.args.Count("keep-days").value_or(7));
  auto report = ops::RunBackup(options, call.err);
  if (!call.WriteJobMetrics("backup", report.ok() && report->ok(),
                            call.ElapsedSeconds(),
                            report.ok() ? report->ToPrometheus() : "")) {
    return kExitUsage;
  }
  if (!report.ok()) return call.Fail(report.status()), kExitUsage;
  report->PrintSummary(call.out);
  if (!call.WriteReport("json", report->ToJson())) return kExitUsage;
  return report->ok() ? kExitOk : kExitFailed;
}

}  // namespace

Command BackupCommand() {
  return {
      {.name = "backup",
       .summary = "back the database up to a directory, S3 or Azure",
       .synopsis = "--pg DSN --to DEST [--keep-days N] [--json FILE] "
                   "[--prom FILE] | list --from DEST",
       .description =
           "pg_dump -Fc of one snapshot into <dbname>-<UTC time>.dump with "
           "a manifest beside it (<dbname>-<UTC time>.json: sha256, size, "
           "server version, time, and the trades' row count, largest id and "
           "content hash in that very snapshot), uploaded through rclone, "
           "the manifest last. Retention then deletes backups older than "
           "--keep-days, never the newest, never a file not named as ours.\n\n"
           "DEST is a directory, file:///DIR, s3://BUCKET/PREFIX, "
           "azure://CONTAINER/PREFIX or rclone:REMOTE:PATH. Credentials come "
           "from the environment (RCLONE_S3_*, RCLONE_AZUREBLOB_*) or "
           "rclone's config, never the command line; the database password "
           "from ~/.pgpass or PGPASSFILE. Back up straight from Postgres, "
           "not through PgBouncer.",
       .flags = {TextFlag("to", "DEST", "where the backup goes"),
                 TextFlag("from", "DEST", "list: where the backups are"),
                 CountFlag("keep-days",
                           "delete backups older than this (default 7; 0 "
                           "keeps all)",
                           0, 3650),
                 JsonFlag(),
                 TextFlag("prom", "FILE",
                          "write Prometheus metrics to FILE (up, last "
                          "success, duration, size)")},
       .max_operands = 1,
       .pg = true,
       .exit_codes = "0 backed up (list: listed), 1 backed up but retention "
                     "failed (said why), 2 usage error or no backup made "
                     "(nothing half-made counts)."},
      Run};
}

}  // namespace tradestore::cli
