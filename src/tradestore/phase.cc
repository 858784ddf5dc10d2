#include "tradestore/phase.h"

#include "absl/strings/str_cat.h"
#include "tradestore/internal/quote.h"

namespace tradestore {

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kSqliteOnly:
      return "sqlite_only";
    case Phase::kDualWrite:
      return "dual_write";
    case Phase::kReadPostgres:
      return "read_postgres";
    case Phase::kPostgresOnly:
      return "postgres_only";
    case Phase::kArchived:
      return "archived";
  }
  return "?";
}

absl::StatusOr<Phase> ParsePhase(absl::string_view text) {
  for (Phase p : {Phase::kSqliteOnly, Phase::kDualWrite, Phase::kReadPostgres,
                  Phase::kPostgresOnly, Phase::kArchived}) {
    if (text == PhaseName(p)) return p;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("phase: ", internal::Quote(text),
                   " is not one of sqlite_only, dual_write, read_postgres, "
                   "postgres_only, archived"));
}

}  // namespace tradestore
