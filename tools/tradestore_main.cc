// The `tradestore` command: a thin main around tradestore::cli::RunCli.
#include <iostream>
#include <string>
#include <vector>

#include "tradestore/cli/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return tradestore::cli::RunCli(args, std::cout, std::cerr);
}
