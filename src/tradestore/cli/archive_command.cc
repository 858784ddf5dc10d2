// tradestore archive: write and check the compressed backup of the SQLite
// store that the archived phase needs.
#include <ostream>

#include "tradestore/cli/cli.h"
#include "tradestore/cli/flags.h"
#include "tradestore/cli/output.h"
#include "tradestore/migration/archive.h"

namespace tradestore::cli {
namespace {

const std::vector<FlagSpec>& ArchiveFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      SqliteFlag(),
      PgFlag(),
      {"to", "DIR", "where the archive and its manifest go (created)"},
      {"json", "FILE", "also write the manifest to FILE"},
      {"deadline", "SECONDS",
       "give up reaching Postgres after this long (default 30)"},
      HelpFlag(),
  };
  return *flags;
}

void ArchiveUsage(std::ostream& os) {
  os << "usage: tradestore archive --sqlite PATH --pg DSN --to DIR "
        "[--json FILE]\n\n"
        "Backs the SQLite store up online (SQLite's backup API), gzips it and\n"
        "writes a manifest beside it: row count, id range, the file's sha256\n"
        "and a content hash over every trade's immutable columns, which is\n"
        "recomputed from Postgres for the same ids. The archive is then read\n"
        "back (decompressed, integrity-checked, hashed again) and recorded in\n"
        "Postgres; `tradestore phase set archived` needs a verified archive\n"
        "taken in postgres_only.\n\n"
        "Exit codes: 0 written and verified, 1 written but a check failed,\n"
        "2 usage error or could not run.\n\nflags:\n"
     << FlagHelp(ArchiveFlags());
}

int Usage(std::ostream& err, absl::string_view message) {
  err << "tradestore archive: " << message << "\n\n";
  ArchiveUsage(err);
  return kExitUsage;
}

}  // namespace

int RunArchiveCommand(const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err) {
  auto parsed = ParseFlags(args, ArchiveFlags());
  if (!parsed.ok()) return Usage(err, parsed.status().message());
  if (!parsed->positional.empty()) {
    return Usage(err, "unexpected argument " + parsed->positional[0]);
  }
  if (parsed->Has("help")) {
    ArchiveUsage(out);
    return kExitOk;
  }
  auto sqlite = SqlitePathFrom(*parsed);
  if (!sqlite.ok()) return Usage(err, sqlite.status().message());
  ArchiveOptions options;
  options.sqlite_path = *sqlite;
  options.pg.dsn = PgDsnFrom(*parsed);
  options.to_dir = parsed->Get("to").value_or("");
  if (options.to_dir.empty()) return Usage(err, "--to DIR is required");
  if (absl::Status s = DeadlineFrom(*parsed, &options.pg.backoff.deadline);
      !s.ok()) {
    return Usage(err, s.message());
  }
  auto report = RunArchive(options, err);
  if (!report.ok()) {
    err << "tradestore archive: " << report.status().message() << "\n";
    return kExitUsage;
  }
  out << "archive: " << report->file << " (" << report->rows << " rows, sha256 "
      << report->file_sha256 << ")\n  manifest: " << report->manifest << "\n";
  for (const std::string& c : report->checks) out << "  ok      " << c << "\n";
  for (const std::string& f : report->failures) out << "  FAILED  " << f << "\n";
  if (auto json = parsed->Get("json")) {
    if (absl::Status s = WriteReport(*json, ArchiveJson(*report), out, *sqlite);
        !s.ok()) {
      err << "tradestore archive: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  return report->verified() ? kExitOk : kExitFailed;
}

}  // namespace tradestore::cli
