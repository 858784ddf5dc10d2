// WAL archiving for the HA stack (`stack up --ha --archive`): one
// pgBackRest repository in DIR/backrest for the whole cluster, its
// configuration naming every node (pg1-path, pg2-path, ...), so backups
// are taken from whichever node leads and the archive goes on across
// failovers.
#ifndef TRADESTORE_OPS_HA_ARCHIVE_H_
#define TRADESTORE_OPS_HA_ARCHIVE_H_

#include <string>

#include "absl/status/status.h"
#include "tradestore/ops/ha_config.h"

namespace tradestore::ops {

// Before the nodes start: the repository's directories and
// layout.backrest_config(), owned by `user`.
absl::Status PrepareHaArchive(const HaLayout& layout, const std::string& user);

// Once a leader runs: creates the stanza and checks that the leader's WAL
// reaches the repository (pgbackrest stanza-create, check).
absl::Status StartHaArchive(const HaLayout& layout, const std::string& user);

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_HA_ARCHIVE_H_
