// Every fuzz target on its kept corpus (tests/fuzz/corpus/<target>/: seeds
// and every input that ever failed), then on deterministic mutations of it,
// so the default suite exercises the targets without libFuzzer. The long
// suite fuzzes for real (tools/fuzz.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "fuzz/fuzz_targets.h"
#include "tradestore/internal/read_file.h"

namespace tradestore::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Corpus(const std::string& target) {
  std::vector<std::string> inputs;
  const fs::path dir =
      fs::path(TRADESTORE_SOURCE_DIR) / "tests/fuzz/corpus" / target;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    inputs.push_back(internal::ReadWholeFile(file));
  }
  return inputs;
}

void RunOn(const NamedTarget& target, const std::string& input) {
  target.run(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

TEST(FuzzCorpusTest, EveryKeptInputRunsClean) {
  for (const NamedTarget& target : Targets()) {
    SCOPED_TRACE(target.name);
    const auto inputs = Corpus(target.name);
    EXPECT_GE(inputs.size(), 3u) << "seeds for " << target.name;
    for (const auto& input : inputs) RunOn(target, input);
  }
}

TEST(FuzzCorpusTest, MutationsOfTheCorpusRunClean) {
  std::mt19937_64 random(20261203);  // fixed: the same inputs every run
  for (const NamedTarget& target : Targets()) {
    SCOPED_TRACE(target.name);
    const auto inputs = Corpus(target.name);
    ASSERT_FALSE(inputs.empty());
    for (int i = 0; i < 5000; ++i) {
      std::string input = inputs[random() % inputs.size()];
      for (int edits = 1 + random() % 4; edits > 0; --edits) {
        const size_t at = input.empty() ? 0 : random() % (input.size() + 1);
        switch (random() % 3) {
          case 0:
            input.insert(at, 1, static_cast<char>(random()));
            break;
          case 1:
            if (at < input.size()) input.erase(at, 1);
            break;
          default:
            if (at < input.size()) input[at] = static_cast<char>(random());
        }
      }
      RunOn(target, input);
    }
  }
}

}  // namespace
}  // namespace tradestore::fuzz
