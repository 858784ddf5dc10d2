// tradestore archive: write and check the compressed backup of the SQLite
// store that the archived phase needs.
#include "nlohmann/json.hpp"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/command.h"
#include "tradestore/internal/prom_text.h"
#include "tradestore/migration/archive.h"

namespace tradestore::cli {
namespace {

void PrintChecks(Invocation& call, const ArchiveReport& report) {
  for (const std::string& c : report.checks) {
    call.out << "  ok      " << c << "\n";
  }
  for (const std::string& f : report.failures) {
    call.out << "  FAILED  " << f << "\n";
  }
}

int List(Invocation& call) {
  const std::string dir = call.args.Get("to").value_or("");
  if (dir.empty()) return call.UsageError("list needs --to DIR");
  if (!call.operands.empty()) return call.UsageError("list takes no files");
  auto entries = ListArchives(dir);
  if (!entries.ok()) return call.Fail(entries.status()), kExitUsage;
  nlohmann::json j = nlohmann::json::array();
  bool all_fine = true;
  for (const ArchiveEntry& e : *entries) {
    call.out << e.file << "\n  ";
    if (!e.problem.empty()) {
      call.out << "PROBLEM: " << e.problem << "\n";
    } else {
      call.out << e.rows << " rows, ids " << e.min_id.value_or(0) << "-"
               << e.max_id.value_or(0) << ", "
               << (e.verified ? "verified when written" : "NOT verified")
               << ", sha256 " << e.file_sha256 << "\n";
    }
    all_fine = all_fine && e.problem.empty() && e.verified;
    j.push_back({{"file", e.file},
                 {"manifest", e.manifest},
                 {"rows", e.rows},
                 {"min_id", e.min_id ? nlohmann::json(*e.min_id) : nullptr},
                 {"max_id", e.max_id ? nlohmann::json(*e.max_id) : nullptr},
                 {"file_sha256", e.file_sha256},
                 {"verified", e.verified},
                 {"problem", e.problem}});
  }
  call.out << entries->size() << " archive(s) in " << dir << "\n";
  if (!call.WriteReport("json", j.dump(2) + "\n")) return kExitUsage;
  return all_fine ? kExitOk : kExitFailed;
}

int Check(Invocation& call) {
  if (call.operands.empty()) return call.UsageError("check needs FILE...");
  bool all_fine = true;
  nlohmann::json j = nlohmann::json::array();
  for (const std::string& file : call.operands) {
    ArchiveCheckOptions options;
    options.file = file;
    if (!call.pg.dsn.empty()) options.pg = call.pg;
    auto report = CheckArchive(options, call.err);
    if (!report.ok()) return call.Fail(report.status()), kExitUsage;
    call.out << "archive " << file << ": "
             << (report->verified() ? "every check passed" : "CHECK FAILED")
             << "\n";
    PrintChecks(call, *report);
    all_fine = all_fine && report->verified();
    j.push_back(nlohmann::json::parse(ArchiveJson(*report)));
  }
  if (!call.WriteReport("json", j.dump(2) + "\n")) return kExitUsage;
  return all_fine ? kExitOk : kExitFailed;
}

int Write(Invocation& call) {
  auto sqlite = SqlitePathFrom(call.args);
  if (!sqlite.ok()) return call.UsageError(sqlite.status().message());
  if (!call.operands.empty()) return call.UsageError("write takes no files");
  call.sqlite = *sqlite;
  ArchiveOptions options;
  options.sqlite_path = call.sqlite;
  options.pg = call.pg;
  options.to_dir = call.args.Get("to").value_or("");
  if (options.to_dir.empty()) return call.UsageError("--to DIR is required");
  auto report = RunArchive(options, call.err);
  const std::string figures =
      report.ok() ? PromText()
                        .Gauge("tradestore_archive_rows",
                               "Trades in the archive.", report->rows)
                        .Gauge("tradestore_archive_verified",
                               "1 when every check of the archive passed.",
                               report->verified() ? 1 : 0)
                        .Take()
                  : "";
  if (!call.WriteJobMetrics("archive", report.ok() && report->verified(),
                            call.ElapsedSeconds(), figures)) {
    return kExitUsage;
  }
  if (!report.ok()) return call.Fail(report.status());
  call.out << "archive: " << report->file << " (" << report->rows
           << " rows, sha256 " << report->file_sha256
           << ")\n  manifest: " << report->manifest << "\n";
  PrintChecks(call, *report);
  if (!call.WriteReport("json", ArchiveJson(*report))) return kExitUsage;
  return report->verified() ? kExitOk : kExitFailed;
}

int Run(Invocation& call) {
  if (call.action == "list") return List(call);
  if (call.action == "check") return Check(call);
  return Write(call);
}

}  // namespace

Command ArchiveCommand() {
  return {
      {.name = "archive",
       .summary = "write, list and check compressed backups of the SQLite "
                  "store",
       .synopsis = "[write] --sqlite PATH --pg DSN --to DIR [--json FILE] "
                   "[--prom FILE] | list --to DIR | check FILE... [--pg DSN]",
       .description =
           "write (the default) backs the SQLite store up online (SQLite's "
           "backup API), gzips it and writes a manifest beside it: row "
           "count, id range, the file's sha256 and a content hash over every "
           "trade's immutable columns, which is recomputed from Postgres for "
           "the same ids. The archive is read back (decompressed, "
           "integrity-checked, hashed again) and recorded in Postgres; "
           "`tradestore phase set archived` needs a verified archive taken "
           "in postgres_only.\n\n"
           "Archives take the store's permissions without the world's. "
           "Nothing half-made ever takes a final name; an archive whose "
           "checks failed is kept as *.unverified.* for a look.\n\n"
           "list reads the manifests in DIR. check reads each archive back "
           "as a restore would (in a private temp directory) against its "
           "manifest and, given a DSN, against Postgres; both write "
           "nothing.",
       .flags = {TextFlag("sqlite", "PATH",
                          "write: the SQLite trade store (default: "
                          "$TRADESTORE_SQLITE)"),
                 TextFlag("to", "DIR",
                          "write: where the archive and its manifest go "
                          "(created); list: the directory to list"),
                 JsonFlag("also write the manifest (list, check: the "
                          "entries) to FILE (\"-\": standard output)"),
                 PromFlag()},
       .actions = {{"write", "write a new archive (the default)"},
                   {"list", "the archives in --to DIR, from their manifests"},
                   {"check", "read archives FILE... back and check them"}},
       .max_operands = 1000,
       .pg = true,
       .exit_codes = "0 written and verified (list: every archive verified "
                     "and present; check: every check passed), 1 a check "
                     "failed, 2 usage error or could not run.",
       .default_action = "write"},
      Run};
}

}  // namespace tradestore::cli
