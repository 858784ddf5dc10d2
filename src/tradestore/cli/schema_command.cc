// tradestore schema migrate|status: apply or show the Postgres migrations.
#include "absl/strings/str_join.h"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/command.h"
#include "tradestore/postgres/dsn.h"
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_pool.h"

namespace tradestore::cli {
namespace {

// The migrations this build has and the database lacks; -1 when the
// database could not be read (the failure printed).
int Pending(Invocation& call, const char* prefix) {
  auto pool = PgPool::Create(call.pg);
  if (!pool.ok()) return call.Fail(pool.status()), -1;
  auto version = AppliedSchemaVersion(**pool);
  if (!version.ok()) return call.Fail(version.status()), -1;
  call.out << "schema: version " << *version << " on " << MaskDsn(call.pg.dsn)
           << "\n";
  int pending = 0;
  for (const Migration& m : BuiltinMigrations()) {
    if (m.version > *version) {
      call.out << "  " << prefix << m.name << "\n";
      ++pending;
    }
  }
  if (pending == 0) call.out << "  nothing pending\n";
  return pending;
}

int Migrate(Invocation& call) {
  if (call.args.Has("dry-run")) {
    const int pending = Pending(call, "would apply: ");
    if (pending < 0) return kExitUsage;
    call.out << "schema: dry run, nothing applied\n";
    return kExitOk;
  }
  auto report = MigrateSchema(call.pg);
  if (!report.ok()) return call.Fail(report.status());
  if (report->applied.empty()) {
    call.out << "schema: up to date at version " << report->version
             << " (nothing applied) on " << MaskDsn(call.pg.dsn) << "\n";
  } else {
    call.out << "schema: applied " << absl::StrJoin(report->applied, ", ")
             << "; now at version " << report->version << " on "
             << MaskDsn(call.pg.dsn) << "\n";
  }
  return kExitOk;
}

int Status(Invocation& call) {
  return Pending(call, "pending: ") < 0 ? kExitUsage : kExitOk;
}

}  // namespace

Command SchemaCommand() {
  return {{.name = "schema",
           .summary = "apply or show the Postgres schema migrations",
           .synopsis = "migrate|status [--pg DSN] [--dry-run]",
           .description =
               "The migrations are compiled into this build; each applied one "
               "is recorded with its sha256, and an edited one is refused.",
           .flags = {DryRunFlag(
               "migrate: list what it would apply, apply nothing")},
           .actions = {{"migrate",
                        "apply the migrations this build has and the "
                        "database lacks; safe to repeat and to run from "
                        "several hosts at once"},
                       {"status", "show the applied and the pending ones"}},
           .pg = true},
          [](Invocation& call) {
            return call.action == "migrate" ? Migrate(call) : Status(call);
          }};
}

}  // namespace tradestore::cli
