// pgBackRest, the physical side of the backups (issue 21): full and
// incremental backups of a cluster, the WAL archive it keeps, and restores
// to the end of that archive or to a point in time. Runs the packaged
// pgbackrest as the cluster's user.
//
// Thread-safety: a value; pgBackRest serialises what must be.
#ifndef TRADESTORE_OPS_PGBACKREST_H_
#define TRADESTORE_OPS_PGBACKREST_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tradestore::ops {

struct PhysicalBackup {
  std::string label;  // "20261202-221530F"
  std::string type;   // full, diff, incr
  int64_t start_unix = 0, stop_unix = 0;
};

class PgBackRest {
 public:
  // `config` is a pgbackrest.conf; `user` runs it ("" = this user).
  PgBackRest(std::string config, std::string stanza, std::string user)
      : config_(std::move(config)),
        stanza_(std::move(stanza)),
        user_(std::move(user)) {}

  // type: full, diff or incr.
  absl::Status Backup(const std::string& type = "full");
  // The repository's backups, oldest first.
  absl::StatusOr<std::vector<PhysicalBackup>> Backups();
  // Restores into `pg_path` (an empty or absent directory, made the
  // user's): to `target_time` ("2026-12-02 22:15:30.123456+00") when given,
  // from backup `set` (its label) or the latest, else to the end of the
  // archive. The copy does not archive (archive_mode off).
  absl::Status Restore(const std::string& pg_path,
                       const std::optional<std::string>& target_time,
                       const std::optional<std::string>& set = std::nullopt);
  // Checks the repository's files; pgBackRest's verify exits 0 even when it
  // finds a bad file, so its output is read. kDataLoss naming what it found.
  absl::Status Verify();

  const std::string& config() const { return config_; }

 private:
  absl::StatusOr<std::string> Run(std::vector<std::string> args);
  std::string config_, stanza_, user_;
};

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_PGBACKREST_H_
