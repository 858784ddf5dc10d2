#include "start_floor.h"

#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench_util.h"

namespace tradestore::bench {

absl::StatusOr<double> MeasureStartFloor(const std::string& dsn, int rounds,
                                         const std::string& log_path) {
  const std::string program =
      (std::filesystem::canonical("/proc/self/exe").parent_path() /
       "connect_once")
          .string();
  std::vector<double> seconds;
  for (int round = 0; round < rounds; ++round) {
    const Measured m = RunMeasured({program, dsn}, log_path);
    if (m.exit_code != 0) {
      return absl::InternalError(
          absl::StrCat(program, " exited ", m.exit_code, "; see ", log_path));
    }
    seconds.push_back(m.seconds);
  }
  return Median(std::move(seconds));
}

}  // namespace tradestore::bench
