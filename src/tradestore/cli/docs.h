// The man page and the bash completion, generated from the commands' specs
// so that they say what --help says and cannot drift from it. The build
// writes both (tools/CMakeLists.txt) and `cmake --install` installs them.
#ifndef TRADESTORE_CLI_DOCS_H_
#define TRADESTORE_CLI_DOCS_H_

#include <string>
#include <vector>

#include "tradestore/cli/command.h"

namespace tradestore::cli {

// tradestore(1) in troff (man macros).
std::string ManPage(const std::vector<Command>& commands);

// A bash script defining the completion of `tradestore`: commands,
// actions, each command's flags, and file names after flags that take a
// FILE, PATH or DIR.
std::string BashCompletion(const std::vector<Command>& commands);

}  // namespace tradestore::cli

#endif  // TRADESTORE_CLI_DOCS_H_
