#include "tradestore/ops/ha_archive.h"

#include "tradestore/internal/process.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/ops/ops_files.h"
#include "tradestore/ops/pg_cluster.h"
#include "tradestore/ops/stack_config.h"

namespace tradestore::ops {

absl::Status PrepareHaArchive(const HaLayout& l, const std::string& user) {
  const std::string backrest = l.backrest_dir();
  for (const char* sub : {"", "/repo", "/log", "/lock"}) {
    TS_RETURN_IF_ERROR(MakeServiceDir(backrest + sub, user));
  }
  PgBackRestPlaces places{.repo_path = backrest + "/repo",
                          .log_path = backrest + "/log",
                          .lock_path = backrest + "/lock",
                          .pg_path = l.data_dir(0),
                          .pg_port = l.nodes.at(0).pg_port,
                          .pg_socket_path = l.node_dir(0)};
  for (size_t i = 1; i < l.nodes.size(); ++i) {
    places.more_pgs.push_back({.path = l.data_dir(i),
                               .port = l.nodes[i].pg_port,
                               .socket_path = l.node_dir(i)});
  }
  return WriteOwnedFile(
      l.backrest_config(),
      RenderPgBackRestConf(OpsFile("tools/postgres/pgbackrest.conf"), places),
      user, 0640);
}

absl::Status StartHaArchive(const HaLayout& l, const std::string& user) {
  for (const char* step : {"stanza-create", "check"}) {
    TS_RETURN_IF_ERROR(
        internal::RunChecked({"pgbackrest", "--config=" + l.backrest_config(),
                              std::string("--stanza=") + kHaStanza, step},
                             user));
  }
  return absl::OkStatus();
}

}  // namespace tradestore::ops
