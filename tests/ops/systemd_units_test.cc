// The shipped systemd units (tools/{archive,backup,verify,relay}) load
// cleanly in systemd-analyze, where it runs, and every service carries the
// hardening the operators expect.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "testing/temp_dir.h"
#include "tradestore/internal/process.h"
#include "tradestore/internal/read_file.h"

namespace tradestore {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> Units() {
  std::vector<fs::path> units;
  for (const char* dir : {"archive", "backup", "verify", "relay"}) {
    for (const auto& entry : fs::directory_iterator(
             fs::path(TRADESTORE_SOURCE_DIR) / "tools" / dir)) {
      const std::string ext = entry.path().extension();
      if (ext == ".service" || ext == ".timer") units.push_back(entry.path());
    }
  }
  return units;
}

TEST(SystemdUnitsTest, EveryJobIsHardenedAndEveryTimerHasItsService) {
  int services = 0;
  for (const fs::path& unit : Units()) {
    const std::string text = internal::ReadWholeFile(unit);
    if (unit.extension() == ".timer") {
      fs::path service = unit;
      service.replace_extension(".service");
      EXPECT_TRUE(fs::exists(service)) << unit;
      EXPECT_NE(text.find("Persistent=true"), std::string::npos) << unit;
      continue;
    }
    if (unit.filename().string().find('@') != std::string::npos) continue;
    ++services;
    for (const char* key : {"User=tradestore\n", "Group=tradestore\n",
                            "NoNewPrivileges=yes\n", "PrivateTmp=yes\n",
                            "ProtectSystem=strict\n", "ProtectHome=read-only\n",
                            "ReadWritePaths=", "OnFailure=", "Timeout"}) {
      EXPECT_NE(text.find(key), std::string::npos) << unit << " lacks " << key;
    }
  }
  EXPECT_GE(services, 6);
}

TEST(SystemdUnitsTest, SystemdAnalyzeFindsNothingToSay) {
  if (!fs::exists("/usr/bin/systemd-analyze")) {
    GTEST_SKIP() << "systemd-analyze is not installed here";
  }
  testing::TempDir dir;
  std::vector<std::string> argv = {"systemd-analyze", "verify", "--man=no"};
  for (const fs::path& unit : Units()) {
    // The binary is not installed here; any executable stands in.
    const std::string text =
        absl::StrReplaceAll(internal::ReadWholeFile(unit),
                            {{"/usr/local/bin/tradestore", "/bin/true"}});
    const std::string copy = dir.File(unit.filename());
    std::ofstream(copy) << text;
    argv.push_back(copy);
  }
  auto r = internal::RunCommand(argv, "", {}, dir.path());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0) << r->output;
  // Warnings (an unknown key, a bad value) do not change the exit code.
  EXPECT_EQ(r->output, "");
}

}  // namespace
}  // namespace tradestore
