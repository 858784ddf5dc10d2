#include "tradestore/migration/archive_files.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "tradestore/internal/safe_file.h"

namespace tradestore::archive {
namespace {

namespace fs = std::filesystem;

constexpr char kWorkPrefix[] = ".tradestore-archive-";

std::string Errno(absl::string_view what, const std::string& path) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
}

// A working directory whose process no longer runs: <prefix><pid>-<random>.
bool Abandoned(const std::string& name) {
  if (!absl::StartsWith(name, kWorkPrefix)) return false;
  const std::vector<std::string> parts =
      absl::StrSplit(name.substr(sizeof kWorkPrefix - 1), '-');
  int pid = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &pid) || pid <= 0) {
    return false;
  }
  return kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

absl::StatusOr<std::unique_ptr<WorkDir>> WorkDir::Create(
    const std::string& to_dir, std::ostream& log) {
  std::error_code ec;
  fs::create_directories(to_dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", to_dir, ": ", ec.message()));
  }
  for (const auto& entry : fs::directory_iterator(to_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && !entry.is_symlink() && Abandoned(name)) {
      log << "archive: removing " << entry.path().string()
          << ", left by a run that was stopped\n";
      fs::remove_all(entry.path(), ec);
    }
  }
  std::mt19937_64 random{std::random_device{}()};
  const std::string path =
      (fs::path(to_dir) / absl::StrFormat("%s%d-%08x", kWorkPrefix, getpid(),
                                          static_cast<uint32_t>(random())))
          .string();
  if (mkdir(path.c_str(), 0700) != 0) {
    return absl::InternalError(Errno("cannot create", path));
  }
  return std::unique_ptr<WorkDir>(new WorkDir(path));
}

WorkDir::~WorkDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::string WorkDir::File(const std::string& name) const {
  return (fs::path(path_) / name).string();
}

mode_t ArchiveMode(const std::string& store) {
  struct stat st;
  if (stat(store.c_str(), &st) != 0) return 0600;
  const mode_t mode = st.st_mode & 0660;
  return (mode & 0600) == 0600 ? mode : 0600;
}

absl::Status Gzip(const std::string& from, const std::string& to, mode_t mode) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return absl::InternalError(absl::StrCat("cannot read ", from));
  const int fd = open(
      to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return absl::InternalError(Errno("cannot create", to));
  gzFile out = gzdopen(fd, "wb6");
  if (out == nullptr) {
    close(fd);
    return absl::InternalError(absl::StrCat("cannot compress into ", to));
  }
  std::string buffer(1 << 16, '\0');
  bool ok = true;
  while (ok && in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<unsigned>(in.gcount());
    ok = n == 0 || gzwrite(out, buffer.data(), n) == static_cast<int>(n);
  }
  ok = gzclose(out) == Z_OK && ok;  // closes fd
  if (!ok) return absl::InternalError(absl::StrCat("writing ", to, " failed"));
  return internal::SyncFile(to);
}

absl::Status Gunzip(const std::string& from, const std::string& to) {
  gzFile in = gzopen(from.c_str(), "rb");
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  if (in == nullptr || !out) {
    if (in != nullptr) gzclose(in);
    return absl::InternalError(absl::StrCat("cannot decompress ", from));
  }
  std::string buffer(1 << 16, '\0');
  int n = 0;
  while ((n = gzread(in, buffer.data(), static_cast<unsigned>(buffer.size()))) >
         0) {
    out.write(buffer.data(), n);
  }
  // Closed on every path: a corrupt file ends the loop with n < 0.
  const int closed = gzclose(in);
  const bool ok = n == 0 && closed == Z_OK && out.good();
  if (!ok) {
    return absl::DataLossError(absl::StrCat(from, " does not decompress"));
  }
  return absl::OkStatus();
}

absl::Status PlaceWithoutReplacing(const std::string& from,
                                   const std::string& to) {
  // link() fails when `to` exists: no check-then-rename race.
  if (link(from.c_str(), to.c_str()) != 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(absl::StrCat(to, " exists already"));
    }
    return absl::InternalError(Errno("cannot place the archive at", to));
  }
  unlink(from.c_str());
  return internal::SyncParentDirectory(to);
}

void RemoveDatabase(const std::string& path) {
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    fs::remove(path + suffix, ignored);
  }
}

}  // namespace tradestore::archive
