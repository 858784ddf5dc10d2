// Where backups go and come from: a local directory (a path, or
// file:///path), S3 (s3://bucket/prefix), Azure Blob
// (azure://container/prefix), or a remote of rclone's own config
// (rclone:REMOTE:path). Every transfer goes through rclone, a well-kept
// client, never a hand-written signer. Credentials come from the
// environment or rclone's config, never a command line:
//   S3     RCLONE_S3_ACCESS_KEY_ID, RCLONE_S3_SECRET_ACCESS_KEY,
//          RCLONE_S3_REGION, RCLONE_S3_ENDPOINT, RCLONE_S3_PROVIDER
//          (or RCLONE_S3_ENV_AUTH=true and the AWS_* variables)
//   Azure  RCLONE_AZUREBLOB_ACCOUNT with RCLONE_AZUREBLOB_KEY or
//          RCLONE_AZUREBLOB_SAS_URL (RCLONE_AZUREBLOB_ENDPOINT and
//          RCLONE_AZUREBLOB_USE_EMULATOR for Azurite)
//
// Thread-safety: a value; calls run rclone and may run side by side.
#ifndef TRADESTORE_OPS_OBJECT_STORE_H_
#define TRADESTORE_OPS_OBJECT_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tradestore::ops {

struct StoredObject {
  std::string name;  // relative to the store's root
  int64_t size = 0;
};

class ObjectStore {
 public:
  // kInvalidArgument naming the form it expects when `dest` is none of
  // them.
  static absl::StatusOr<ObjectStore> Parse(const std::string& dest);

  // Copies the local file to `name`, then checks the size that arrived.
  absl::Status Upload(const std::string& local_file, const std::string& name);
  // Copies `name` to the local file.
  absl::Status Download(const std::string& name, const std::string& local_file);
  // The objects directly under the root (kNotFound: no such root).
  absl::StatusOr<std::vector<StoredObject>> List();
  // Deletes `name`.
  absl::Status Delete(const std::string& name);

  // The destination as given, for messages (it holds no secret).
  const std::string& display() const { return display_; }
  // rclone's name for the root (":s3:bucket/prefix").
  const std::string& root() const { return root_; }

 private:
  ObjectStore(std::string display, std::string root)
      : display_(std::move(display)), root_(std::move(root)) {}
  std::string display_, root_;
};

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_OBJECT_STORE_H_
