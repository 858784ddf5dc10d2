// tradestore archive: write and check the compressed backup of the SQLite
// store that the archived phase needs.
#include "tradestore/cli/cli.h"
#include "tradestore/cli/command.h"
#include "tradestore/internal/prom_text.h"
#include "tradestore/migration/archive.h"

namespace tradestore::cli {
namespace {

int Run(Invocation& call) {
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
  for (const std::string& c : report->checks) {
    call.out << "  ok      " << c << "\n";
  }
  for (const std::string& f : report->failures) {
    call.out << "  FAILED  " << f << "\n";
  }
  if (!call.WriteReport("json", ArchiveJson(*report))) return kExitUsage;
  return report->verified() ? kExitOk : kExitFailed;
}

}  // namespace

Command ArchiveCommand() {
  return {
      {.name = "archive",
       .summary = "write and check a compressed backup of the SQLite store",
       .synopsis = "--sqlite PATH --pg DSN --to DIR [--json FILE] "
                   "[--prom FILE]",
       .description =
           "Backs the SQLite store up online (SQLite's backup API), gzips it "
           "and writes a manifest beside it: row count, id range, the file's "
           "sha256 and a content hash over every trade's immutable columns, "
           "which is recomputed from Postgres for the same ids. The archive "
           "is read back (decompressed, integrity-checked, hashed again) and "
           "recorded in Postgres; `tradestore phase set archived` needs a "
           "verified archive taken in postgres_only.\n\n"
           "Archives take the store's permissions without the world's. "
           "Nothing half-made ever takes a final name; an archive whose "
           "checks failed is kept as *.unverified.* for a look.",
       .flags = {TextFlag("to", "DIR",
                          "where the archive and its manifest go (created)"),
                 JsonFlag("also write the manifest to FILE (\"-\": standard "
                          "output)"),
                 PromFlag()},
       .sqlite = true,
       .pg = true,
       .exit_codes = "0 written and verified, 1 written but a check failed, "
                     "2 usage error or could not run."},
      Run};
}

}  // namespace tradestore::cli
