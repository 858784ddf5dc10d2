#include "tradestore/sqlite/phase_mirror.h"

#include <sqlite3.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tradestore/internal/quote.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/sqlite/sqlite_handle.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {

absl::Status MirrorPhaseIntoSqlite(SqliteTradeStore& store,
                                   const PhaseState& s) {
  return store.SetMeta({{"phase", PhaseName(s.phase)},
                        {"phase_version", std::to_string(s.version)},
                        {"phase_changed_at", s.changed_at.ToIso8601()}});
}

absl::Status MirrorPhaseIntoSqlite(const std::string& path,
                                   const PhaseState& s) {
  TS_ASSIGN_OR_RETURN(
      auto store,
      SqliteTradeStore::Open(
          {.path = path, .create_if_missing = false, .reader_connections = 1}));
  return MirrorPhaseIntoSqlite(*store, s);
}

absl::StatusOr<std::optional<PhaseState>> ReadSqlitePhase(
    const std::string& sqlite_path) {
  TS_ASSIGN_OR_RETURN(auto db,
                      sqlite::SqliteDb::OpenReadOnly(sqlite_path, 5000));
  TS_ASSIGN_OR_RETURN(
      sqlite::Statement get,
      db->Prepare("SELECT key, value FROM tradestore_meta WHERE key IN "
                  "('phase', 'phase_version', 'phase_changed_at')"));
  auto bad = [&](const std::string& key, const std::string& value) {
    return absl::DataLossError(absl::StrCat(
        sqlite_path, ": the mirrored ", key, " ", internal::Quote(value),
        " is not what tradestore writes there"));
  };
  std::optional<PhaseState> state;
  for (;;) {
    TS_ASSIGN_OR_RETURN(bool row, get.Step());
    if (!row) break;
    if (!state) state = PhaseState();
    const std::string key = get.ColumnText(0), value = get.ColumnText(1);
    if (key == "phase") {
      auto phase = ParsePhase(value);
      if (!phase.ok()) return bad(key, value);
      state->phase = *phase;
    } else if (key == "phase_version") {
      if (!absl::SimpleAtoi(value, &state->version) || state->version < 0) {
        return bad(key, value);
      }
    } else {
      auto at = Timestamp::Parse(value);
      if (!at.ok()) return bad(key, value);
      state->changed_at = *at;
    }
  }
  TS_RETURN_IF_ERROR(db->CheckUnchanged());
  return state;
}

}  // namespace tradestore
