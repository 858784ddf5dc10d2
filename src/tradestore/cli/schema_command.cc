// tradestore schema migrate|status: apply or show the Postgres migrations.
#include <ostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/flags.h"
#include "tradestore/postgres/dsn.h"
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_pool.h"

namespace tradestore::cli {
namespace {

const std::vector<FlagSpec>& SchemaFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      PgFlag(),
      {"deadline", "SECONDS",
       "give up reaching Postgres after this long (default 30)"},
      HelpFlag(),
  };
  return *flags;
}

void SchemaUsage(std::ostream& os) {
  os << "usage: tradestore schema migrate|status [--pg DSN]\n\n"
        "  migrate  apply the migrations this build has and the database "
        "lacks;\n"
        "           safe to repeat and to run from several hosts at once\n"
        "  status   show the applied and the pending migrations\n\nflags:\n"
     << FlagHelp(SchemaFlags());
}

int Migrate(const PgOptions& options, std::ostream& out, std::ostream& err) {
  auto report = MigrateSchema(options);
  if (!report.ok()) {
    err << "tradestore schema migrate: " << report.status().message() << "\n";
    return ExitCodeFor(report.status());
  }
  if (report->applied.empty()) {
    out << "schema: up to date at version " << report->version
        << " (nothing applied) on " << MaskDsn(options.dsn) << "\n";
  } else {
    out << "schema: applied " << absl::StrJoin(report->applied, ", ")
        << "; now at version " << report->version << " on "
        << MaskDsn(options.dsn) << "\n";
  }
  return kExitOk;
}

int Status(const PgOptions& options, std::ostream& out, std::ostream& err) {
  auto pool = PgPool::Create(options);
  if (!pool.ok()) {
    err << "tradestore schema status: " << pool.status().message() << "\n";
    return ExitCodeFor(pool.status());
  }
  auto version = AppliedSchemaVersion(**pool);
  if (!version.ok()) {
    err << "tradestore schema status: " << version.status().message() << "\n";
    return ExitCodeFor(version.status());
  }
  out << "schema: version " << *version << " on " << MaskDsn(options.dsn)
      << "\n";
  int pending = 0;
  for (const Migration& m : BuiltinMigrations()) {
    if (m.version > *version) {
      out << "  pending: " << m.name << "\n";
      ++pending;
    }
  }
  if (pending == 0) out << "  nothing pending\n";
  return kExitOk;
}

}  // namespace

int RunSchema(const std::vector<std::string>& args, std::ostream& out,
              std::ostream& err) {
  auto parsed = ParseFlags(args, SchemaFlags());
  if (!parsed.ok()) {
    err << "tradestore schema: " << parsed.status().message() << "\n\n";
    SchemaUsage(err);
    return kExitUsage;
  }
  if (parsed->Has("help")) {
    SchemaUsage(out);
    return kExitOk;
  }
  if (parsed->positional.size() != 1 ||
      (parsed->positional[0] != "migrate" && parsed->positional[0] != "status")) {
    err << "tradestore schema: expected `migrate` or `status`\n\n";
    SchemaUsage(err);
    return kExitUsage;
  }
  PgOptions options;
  options.dsn = PgDsnFrom(*parsed);
  if (auto s = DeadlineFrom(*parsed, &options.backoff.deadline); !s.ok()) {
    err << "tradestore schema: " << s.message() << "\n";
    return kExitUsage;
  }
  return parsed->positional[0] == "migrate" ? Migrate(options, out, err)
                                            : Status(options, out, err);
}

}  // namespace tradestore::cli
