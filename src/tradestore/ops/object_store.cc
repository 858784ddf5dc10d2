#include "tradestore/ops/object_store.h"

#include <cstdlib>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/process.h"
#include "tradestore/internal/quote.h"
#include "tradestore/internal/status_macros.h"

namespace tradestore::ops {
namespace {

// rclone's environment. rclone 1.60's S3 client cannot load
// AWS_CA_BUNDLE ("HTTPClient's transport unsupported type") and fails on
// every S3 call with it set; it takes the same bundle as --ca-cert.
internal::EnvChanges RcloneEnv() {
  internal::EnvChanges env = {{"AWS_CA_BUNDLE", std::nullopt}};
  const char* bundle = std::getenv("AWS_CA_BUNDLE");
  if (bundle != nullptr && std::getenv("RCLONE_CA_CERT") == nullptr) {
    env.emplace_back("RCLONE_CA_CERT", bundle);
  }
  return env;
}

absl::StatusOr<internal::CommandResult> Rclone(
    const std::vector<std::string>& args) {
  // umask 077: what rclone creates on a local destination is private.
  std::vector<std::string> argv = {
      "sh",        "-c", "umask 077 && exec \"$@\"", "rclone", "rclone",
      "--retries", "3",  "--low-level-retries",      "5"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = internal::RunCommand(argv, "", RcloneEnv());
  if (!r.ok()) {
    return absl::FailedPreconditionError(
        "rclone is not installed (run tools/setup.sh)");
  }
  return r;
}

absl::Status Failed(const std::string& what, const internal::CommandResult& r) {
  const std::string why = internal::Escape(r.output.substr(0, 2000));
  // rclone's "directory not found" is the root missing, not a failure.
  if (absl::StrContains(r.output, "directory not found")) {
    return absl::NotFoundError(absl::StrCat(what, ": ", why));
  }
  return absl::UnavailableError(absl::StrCat(what, " failed: ", why));
}

}  // namespace

absl::StatusOr<ObjectStore> ObjectStore::Parse(const std::string& dest) {
  absl::string_view rest = dest;
  if (absl::ConsumePrefix(&rest, "s3://")) {
    if (rest.empty()) return absl::InvalidArgumentError("s3:// needs a bucket");
    return ObjectStore(dest, absl::StrCat(":s3:", rest));
  }
  if (absl::ConsumePrefix(&rest, "azure://")) {
    if (rest.empty()) {
      return absl::InvalidArgumentError("azure:// needs a container");
    }
    return ObjectStore(dest, absl::StrCat(":azureblob:", rest));
  }
  if (absl::ConsumePrefix(&rest, "rclone:")) {
    if (rest.find(':') == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          "rclone:REMOTE:path names a remote of rclone's config");
    }
    return ObjectStore(dest, std::string(rest));
  }
  if (absl::ConsumePrefix(&rest, "file://")) {
    if (!absl::StartsWith(rest, "/")) {
      return absl::InvalidArgumentError("file:// takes an absolute path");
    }
    return ObjectStore(dest, std::string(rest));
  }
  if (dest.empty() || dest.find("://") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("backup destination ", internal::Quote(dest),
                     " is none of DIR, file:///DIR, s3://BUCKET/PREFIX, "
                     "azure://CONTAINER/PREFIX, rclone:REMOTE:PATH"));
  }
  return ObjectStore(dest, std::filesystem::absolute(dest).string());
}

absl::Status ObjectStore::Upload(const std::string& local_file,
                                 const std::string& name) {
  const std::string target = absl::StrCat(root_, "/", name);
  TS_ASSIGN_OR_RETURN(auto r, Rclone({"copyto", local_file, target}));
  if (r.exit_code != 0) {
    return Failed(absl::StrCat("upload to ", display_, "/", name), r);
  }
  // What arrived is what was sent.
  std::error_code ec;
  const auto size = std::filesystem::file_size(local_file, ec);
  TS_ASSIGN_OR_RETURN(auto objects, List());
  for (const StoredObject& o : objects) {
    if (o.name == name && static_cast<uintmax_t>(o.size) == size) {
      return absl::OkStatus();
    }
  }
  return absl::DataLossError(absl::StrCat(display_, "/", name,
                                          " is not there whole after the "
                                          "upload"));
}

absl::Status ObjectStore::Download(const std::string& name,
                                   const std::string& local_file) {
  TS_ASSIGN_OR_RETURN(
      auto r, Rclone({"copyto", absl::StrCat(root_, "/", name), local_file}));
  if (r.exit_code != 0) {
    return Failed(absl::StrCat("download of ", display_, "/", name), r);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StoredObject>> ObjectStore::List() {
  TS_ASSIGN_OR_RETURN(auto r, Rclone({"lsjson", "--files-only", root_}));
  if (r.exit_code != 0) return Failed(absl::StrCat("listing ", display_), r);
  const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  if (!j.is_array()) {
    return absl::DataLossError(
        absl::StrCat("rclone listed ", display_, " in an unknown form"));
  }
  std::vector<StoredObject> objects;
  for (const auto& entry : j) {
    objects.push_back({entry.value("Path", ""), entry.value("Size", 0)});
  }
  return objects;
}

absl::Status ObjectStore::Delete(const std::string& name) {
  TS_ASSIGN_OR_RETURN(auto r,
                      Rclone({"deletefile", absl::StrCat(root_, "/", name)}));
  if (r.exit_code != 0) {
    return Failed(absl::StrCat("deleting ", display_, "/", name), r);
  }
  return absl::OkStatus();
}

}  // namespace tradestore::ops
