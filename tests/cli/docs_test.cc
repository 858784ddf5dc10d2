// The man page and the completion say what --help says, render without
// warnings, and complete what a user types.
#include "tradestore/cli/docs.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "testing/temp_dir.h"
#include "tradestore/cli/cli.h"
#include "tradestore/internal/process.h"

namespace tradestore::cli {
namespace {

std::string Cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  EXPECT_EQ(RunCli(args, out, err), kExitOk) << err.str();
  return out.str();
}

// The command names `tradestore --help` lists.
std::vector<std::string> CommandNames() {
  std::vector<std::string> names;
  std::istringstream help(Cli({"--help"}));
  std::string line;
  bool in_list = false;
  while (std::getline(help, line)) {
    if (line == "commands:") {
      in_list = true;
    } else if (in_list && line.rfind("  ", 0) == 0) {
      names.push_back(line.substr(2, line.find(' ', 2) - 2));
    } else if (in_list) {
      break;
    }
  }
  return names;
}

TEST(DocsTest, TheManPageHasEveryCommandAndFlagAndRendersCleanly) {
  const std::string man = Cli({"man"});
  EXPECT_EQ(man.find(".TH TRADESTORE 1"), man.find(".TH"));
  const std::vector<std::string> names = CommandNames();
  ASSERT_GE(names.size(), 15u);
  for (const std::string& name : names) {
    EXPECT_NE(man.find(absl::StrCat(".SS \"tradestore ", name, "\"")),
              std::string::npos)
        << name;
    // Every flag of the command's --help, as troff writes it.
    std::istringstream help(Cli({name, "--help"}));
    std::string line;
    while (std::getline(help, line)) {
      if (line.rfind("  --", 0) != 0) continue;
      const std::string flag = line.substr(2, line.find(' ', 2) - 2);
      EXPECT_NE(man.find(absl::StrReplaceAll(flag, {{"-", "\\-"}})),
                std::string::npos)
          << name << " " << flag;
    }
  }
  testing::TempDir dir;
  const std::string page = dir.File("tradestore.1");
  std::ofstream(page) << man;
  // groff comes with man-db (tools/setup.sh): -ww warns of anything odd.
  auto rendered =
      internal::RunCommand({"groff", "-man", "-Tutf8", "-ww", "-z", page});
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  EXPECT_EQ(rendered->exit_code, 0) << rendered->output;
  EXPECT_EQ(rendered->output, "");
}

class CompletionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    script_ = dir_.File("tradestore.bash");
    std::ofstream(script_) << Cli({"completion", "bash"});
    std::ofstream(dir_.File("report.json")) << "{}";
  }
  // What bash offers after `words` (the last one is being typed).
  std::string Complete(const std::vector<std::string>& words) {
    std::vector<std::string> quoted;
    for (const std::string& w : words) quoted.push_back("'" + w + "'");
    const std::string program = absl::StrCat(
        "source '", script_, "'; COMP_WORDS=(", absl::StrJoin(quoted, " "),
        "); COMP_CWORD=", words.size() - 1,
        "; _tradestore; echo \"${COMPREPLY[*]}\"");
    auto r = internal::RunCommand({"bash", "--norc", "-c", program}, "", {},
                                  dir_.path());
    EXPECT_TRUE(r.ok() && r->exit_code == 0)
        << (r.ok() ? r->output : r.status().ToString());
    return r.ok() ? std::string(absl::StripTrailingAsciiWhitespace(r->out))
                  : "";
  }
  testing::TempDir dir_;
  std::string script_;
};

TEST_F(CompletionTest, CompletesCommandsActionsFlagsAndFiles) {
  EXPECT_EQ(Complete({"tradestore", "ver"}), "verify");
  EXPECT_EQ(Complete({"tradestore", "--ver"}), "--version");
  EXPECT_EQ(Complete({"tradestore", "verify", "--sq"}), "--sqlite");
  EXPECT_EQ(Complete({"tradestore", "phase", "sh"}), "show");
  EXPECT_EQ(Complete({"tradestore", "completion", ""}), "bash");
  EXPECT_EQ(Complete({"tradestore", "verify", "--json", "rep"}), "report.json");
  // A DSN is not a file name; nothing is offered.
  EXPECT_EQ(Complete({"tradestore", "verify", "--pg", "rep"}), "");
  EXPECT_EQ(Complete({"tradestore", "nosuch", "--"}), "");
}

}  // namespace
}  // namespace tradestore::cli
