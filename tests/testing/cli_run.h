// Runs the CLI in this process, as `tradestore ARGS...` would, and keeps
// its exit code and what it wrote.
#ifndef TRADESTORE_TESTS_TESTING_CLI_RUN_H_
#define TRADESTORE_TESTS_TESTING_CLI_RUN_H_

#include <sstream>
#include <string>
#include <vector>

#include "tradestore/cli/cli.h"

namespace tradestore::testing {

struct CliRun {
  int code;
  std::string out, err;
};

inline CliRun Cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = cli::RunCli(args, out, err);
  return {code, out.str(), err.str()};
}

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_CLI_RUN_H_
