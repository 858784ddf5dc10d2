// The cloud storage emulators the backup tests run against, from the npm
// registry (tools/emulators, installed by tools/setup.sh): s3rver for S3
// and Microsoft's azurite for Azure Blob, on loopback ports, with their
// data in a temp dir. Each sets the environment rclone reads its
// credentials from, as an operator would.
#ifndef TRADESTORE_TESTS_TESTING_EMULATORS_H_
#define TRADESTORE_TESTS_TESTING_EMULATORS_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "testing/child_process.h"
#include "tradestore/internal/process.h"

namespace tradestore::testing {

// Where the emulators are, "" when node or the packages are missing.
inline std::string EmulatorBin(const std::string& name) {
  const std::string bin = std::string(TRADESTORE_SOURCE_DIR) +
                          "/tools/emulators/node_modules/.bin/" + name;
  return std::filesystem::exists(bin) ? bin : "";
}

// Waits until something listens on 127.0.0.1:port.
inline bool WaitForPort(int port) {
  for (int i = 0; i < 600; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool up =
        connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (up) return true;
    usleep(50'000);
  }
  return false;
}

struct Emulator {
  std::unique_ptr<ChildProcess> process;
  std::string dest_root;  // "s3://backups" or "azure://backups"
};

// s3rver with a bucket `backups`; sets RCLONE_S3_*.
inline Emulator StartS3rver(const std::string& dir) {
  Emulator e;
  const std::string bin = EmulatorBin("s3rver");
  const int port = internal::FreeLoopbackPort().value_or(0);
  if (bin.empty() || port == 0) return e;
  std::filesystem::create_directories(dir);
  // node's launcher script: run it with node.
  e.process = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/bin/env", "node", bin, "--directory", dir,
                               "--address", "127.0.0.1", "--port",
                               std::to_string(port), "--silent",
                               "--configure-bucket", "backups"},
      dir + "/../s3rver.log");
  if (!WaitForPort(port)) return {};
  setenv("RCLONE_S3_PROVIDER", "Other", 1);
  setenv("RCLONE_S3_ENDPOINT", absl::StrCat("http://127.0.0.1:", port).c_str(),
         1);
  setenv("RCLONE_S3_ACCESS_KEY_ID", "S3RVER", 1);
  setenv("RCLONE_S3_SECRET_ACCESS_KEY", "S3RVER", 1);
  setenv("RCLONE_S3_FORCE_PATH_STYLE", "true", 1);
  e.dest_root = "s3://backups";
  return e;
}

// azurite's blob service (HTTP, the well-known dev account); sets
// RCLONE_AZUREBLOB_*.
inline Emulator StartAzurite(const std::string& dir) {
  Emulator e;
  const std::string bin = EmulatorBin("azurite-blob");
  const int port = internal::FreeLoopbackPort().value_or(0);
  if (bin.empty() || port == 0) return e;
  std::filesystem::create_directories(dir);
  e.process = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/bin/env", "node", bin, "--blobHost",
                               "127.0.0.1", "--blobPort", std::to_string(port),
                               "--location", dir, "--silent",
                               "--skipApiVersionCheck", "--loose"},
      dir + "/../azurite.log");
  if (!WaitForPort(port)) return {};
  setenv("RCLONE_AZUREBLOB_USE_EMULATOR", "true", 1);
  setenv("RCLONE_AZUREBLOB_ENDPOINT",
         absl::StrCat("http://127.0.0.1:", port, "/devstoreaccount1").c_str(),
         1);
  e.dest_root = "azure://backups";
  return e;
}

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_EMULATORS_H_
