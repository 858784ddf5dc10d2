// The config file (--config FILE, or $TRADESTORE_CONFIG): defaults for any
// command's flags, so the DSN and the paths need not be typed or kept in a
// unit's command line.
//
//   # /etc/tradestore/tradestore.conf
//   sqlite = /srv/execution/trade_store.db
//   pg = host=db-primary dbname=trades user=tradestore_app
//   deadline = 1m
//   [verify]
//   prom = /var/lib/node_exporter/textfile_collector/tradestore_verify.prom
//
// Keys are flag names. Keys before any [section] apply to every command
// that takes that flag; a [command] section's keys to that command only
// (and must be flags of it). The command line wins, then the environment
// ($TRADESTORE_SQLITE, $TRADESTORE_PG_DSN), then the file. A password in a
// DSN is refused (use ~/.pgpass or PGPASSFILE), as is a file that others
// than its owner may change.
#ifndef TRADESTORE_CLI_CONFIG_FILE_H_
#define TRADESTORE_CLI_CONFIG_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/cli/flags.h"

namespace tradestore::cli {

struct ConfigEntry {
  std::string section;  // "" before any [section]
  std::string key, value;
  int line = 0;
};

struct ConfigFile {
  std::string path;
  std::vector<ConfigEntry> entries;
};

// Reads and checks the file's syntax. kInvalidArgument names the file and
// line; kFailedPrecondition a file others may write.
absl::StatusOr<ConfigFile> ReadConfigFile(const std::string& path);

// Adds to `args` the file's values for `command`'s flags that `args` lacks,
// checked as the flags are. `known` are the flag names of every command and
// `commands` (when given) every command's name, so a misspelt key or
// [section] is an error, not silence.
absl::Status ApplyConfig(const ConfigFile& config, const std::string& command,
                         const std::vector<FlagSpec>& flags,
                         const std::vector<std::string>& known,
                         ParsedArgs& args,
                         const std::vector<std::string>& commands = {});

}  // namespace tradestore::cli

#endif  // TRADESTORE_CLI_CONFIG_FILE_H_
