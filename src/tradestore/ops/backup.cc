#include "tradestore/ops/backup.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/process.h"
#include "tradestore/internal/prom_text.h"
#include "tradestore/internal/safe_file.h"
#include "tradestore/internal/sha256.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/ops/object_store.h"
#include "tradestore/ops/pg_cluster.h"
#include "tradestore/ops/work_dir.h"
#include "tradestore/postgres/backup_log.h"
#include "tradestore/postgres/dsn.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/version.h"

namespace tradestore::ops {
namespace {

constexpr absl::string_view kStampFormat = "%Y%m%dT%H%M%SZ";

double Seconds(Clock* clock, std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(clock->Monotonic() - since).count();
}

// pg_dump of `snapshot` into `file`, the connection given to it by the
// environment (no password on its command line).
absl::Status Dump(const std::string& dsn, const std::string& snapshot,
                  const std::string& file) {
  TS_ASSIGN_OR_RETURN(auto pg_env, DsnEnvironment(dsn));
  internal::EnvChanges env(pg_env.begin(), pg_env.end());
  env.emplace_back("PGAPPNAME", "tradestore backup");
  const std::string pg_dump = FindPostgresBinDir() + "/pg_dump";
  TS_ASSIGN_OR_RETURN(
      auto r, internal::RunCommand(
                  {"sh", "-c", "umask 077 && exec \"$@\"", "pg_dump", pg_dump,
                   "--format=custom", "--compress=6", "--no-password",
                   "--snapshot=" + snapshot, "--file=" + file},
                  "", env));
  if (r.exit_code != 0) {
    return absl::UnavailableError(absl::StrCat("pg_dump failed: ", r.output));
  }
  return absl::OkStatus();
}

// Deletes the backups older than keep_days, never the newest.
void ApplyRetention(ObjectStore& store, int keep_days, Timestamp now,
                    BackupReport& report) {
  if (keep_days <= 0) return;
  auto entries = ListBackups(store.display());
  if (!entries.ok()) {
    report.problems.push_back(
        absl::StrCat("retention: ", entries.status().message()));
    return;
  }
  const int64_t horizon =
      now.unix_micros() - int64_t{keep_days} * 24 * 3600 * 1'000'000;
  for (size_t i = 0; i + 1 < entries->size(); ++i) {  // never the newest
    const BackupEntry& e = (*entries)[i];
    if (e.created_at.unix_micros() >= horizon) continue;
    // The manifest first: a dump without one no longer counts.
    for (const std::string& file : {e.name + ".json", e.name + ".dump"}) {
      if (absl::Status s = store.Delete(file); !s.ok()) {
        report.problems.push_back(absl::StrCat("retention: ", s.message()));
        break;
      }
    }
    report.deleted.push_back(e.name);
  }
}

}  // namespace

std::string BackupName(const std::string& database, Timestamp when) {
  const absl::Time t = absl::FromUnixMicros(when.unix_micros());
  return absl::StrCat(database, "-",
                      absl::FormatTime(kStampFormat, t, absl::UTCTimeZone()));
}

std::optional<Timestamp> BackupTime(const std::string& name) {
  // <name>-YYYYMMDDTHHMMSSZ; parsed by position (a strptime %Y takes every
  // digit it sees).
  const size_t dash = name.rfind('-');
  if (dash == std::string::npos || name.size() - dash - 1 != 16) {
    return std::nullopt;
  }
  const std::string s = name.substr(dash + 1);
  for (size_t i = 0; i < 16; ++i) {
    const bool digit = s[i] >= '0' && s[i] <= '9';
    if ((i == 8 && s[i] != 'T') || (i == 15 && s[i] != 'Z') ||
        (i != 8 && i != 15 && !digit)) {
      return std::nullopt;
    }
  }
  auto t = Timestamp::Parse(absl::StrCat(
      s.substr(0, 4), "-", s.substr(4, 2), "-", s.substr(6, 2), "T",
      s.substr(9, 2), ":", s.substr(11, 2), ":", s.substr(13, 2), "Z"));
  if (!t.ok()) return std::nullopt;
  return *t;
}

std::string BackupManifest::ToJson() const {
  return nlohmann::json{
             {"name", name},
             {"dump", dump},
             {"sha256", sha256},
             {"size", size},
             {"database", database},
             {"server_version", server_version},
             {"created_at", created_at.ToIso8601()},
             {"tradestore_version", tradestore_version},
             {"dump_seconds", dump_seconds},
             {"trades",
              {{"rows", trades.rows},
               {"max_id", trades.max_id ? nlohmann::json(*trades.max_id)
                                        : nlohmann::json()},
               {"sha256", trades.sha256}}}}
             .dump(2) +
         "\n";
}

absl::StatusOr<BackupManifest> BackupManifest::FromJson(
    const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  auto bad = [](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("the manifest ", what));
  };
  if (!j.is_object()) return bad("is not a JSON object");
  BackupManifest m;
  try {
    m.name = j.at("name").get<std::string>();
    m.dump = j.at("dump").get<std::string>();
    m.sha256 = j.at("sha256").get<std::string>();
    m.size = j.at("size").get<int64_t>();
    m.database = j.at("database").get<std::string>();
    m.server_version = j.value("server_version", "");
    m.tradestore_version = j.value("tradestore_version", "");
    m.dump_seconds = j.value("dump_seconds", 0.0);
    auto created = Timestamp::Parse(j.at("created_at").get<std::string>());
    if (!created.ok()) return bad("has no valid created_at");
    m.created_at = *created;
    const auto& trades = j.at("trades");
    m.trades.rows = trades.at("rows").get<int64_t>();
    if (!trades.at("max_id").is_null()) {
      m.trades.max_id = trades.at("max_id").get<int64_t>();
    }
    m.trades.sha256 = trades.at("sha256").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return bad(absl::StrCat("lacks a field: ", e.what()));
  }
  if (m.sha256.size() != 64 || m.dump != m.name + ".dump") {
    return bad("does not describe a dump of its own name");
  }
  return m;
}

absl::StatusOr<BackupReport> RunBackup(const BackupOptions& options,
                                       std::ostream& log) {
  Clock* clock = options.clock != nullptr ? options.clock : Clock::Real();
  const auto start = clock->Monotonic();
  TS_ASSIGN_OR_RETURN(ObjectStore store, ObjectStore::Parse(options.to));
  TS_ASSIGN_OR_RETURN(auto pool, PgPool::Create(options.pg));
  BackupReport report;
  report.destination = store.display();
  BackupManifest& m = report.manifest;
  TS_ASSIGN_OR_RETURN(m.database, CurrentDatabase(*pool));
  TS_ASSIGN_OR_RETURN(m.server_version, ServerVersion(*pool));
  m.created_at = clock->Now();
  m.name = BackupName(m.database, m.created_at);
  m.dump = m.name + ".dump";
  m.tradestore_version = kVersion;
  TS_ASSIGN_OR_RETURN(auto work, WorkDir::Create());
  const std::string dump = work->File(m.dump);
  log << "backup: dumping " << MaskDsn(options.pg.dsn) << " to " << m.dump
      << std::endl;
  const auto dump_start = clock->Monotonic();
  TS_ASSIGN_OR_RETURN(
      m.trades,
      DigestTradesAtExportedSnapshot(*pool, [&](const std::string& snapshot) {
        return Dump(options.pg.dsn, snapshot, dump);
      }));
  m.dump_seconds = Seconds(clock, dump_start);
  TS_ASSIGN_OR_RETURN(m.sha256, internal::Sha256OfFile(dump));
  std::error_code ec;
  m.size = static_cast<int64_t>(std::filesystem::file_size(dump, ec));
  const std::string manifest = work->File(m.name + ".json");
  TS_RETURN_IF_ERROR(
      internal::WriteFileSafely(manifest, m.ToJson(), {.mode = 0600}));
  log << "backup: uploading " << m.size << " bytes to " << store.display()
      << std::endl;
  TS_RETURN_IF_ERROR(store.Upload(dump, m.dump));
  // Last: only now does the backup count.
  TS_RETURN_IF_ERROR(store.Upload(manifest, m.name + ".json"));
  ApplyRetention(store, options.keep_days, m.created_at, report);
  report.duration_s = Seconds(clock, start);
  // Recorded for `tradestore status`, where the schema has the table.
  const absl::Status recorded =
      RecordBackupRun(*pool, {.kind = "logical",
                              .name = m.name,
                              .destination = store.display(),
                              .ok = report.ok(),
                              .size_bytes = m.size,
                              .trades_rows = m.trades.rows,
                              .detail = absl::StrJoin(report.problems, "; ")});
  if (!recorded.ok()) {
    report.notes.push_back(
        absl::StrCat("not recorded in backup_runs: ", recorded.message()));
  }
  return report;
}

absl::StatusOr<std::vector<BackupEntry>> ListBackups(const std::string& from) {
  TS_ASSIGN_OR_RETURN(ObjectStore store, ObjectStore::Parse(from));
  TS_ASSIGN_OR_RETURN(std::vector<StoredObject> objects, store.List());
  std::map<std::string, int64_t> dumps;
  std::set<std::string> manifests;
  for (const StoredObject& o : objects) {
    const std::filesystem::path p(o.name);
    const std::string stem = p.stem().string();
    if (!BackupTime(stem) || p.has_parent_path()) continue;
    if (p.extension() == ".dump") dumps[stem] = o.size;
    if (p.extension() == ".json") manifests.insert(stem);
  }
  std::vector<BackupEntry> entries;
  for (const auto& [name, size] : dumps) {
    if (!manifests.count(name)) continue;
    entries.push_back({name, *BackupTime(name), size});
  }
  std::sort(entries.begin(), entries.end(),
            [](const BackupEntry& a, const BackupEntry& b) {
              return a.created_at < b.created_at;
            });
  return entries;
}

std::string BackupReport::ToJson() const {
  nlohmann::json j = nlohmann::json::parse(manifest.ToJson());
  j["destination"] = destination;
  j["deleted"] = deleted;
  j["problems"] = problems;
  j["notes"] = notes;
  j["duration_s"] = duration_s;
  j["ok"] = ok();
  return j.dump(2) + "\n";
}

std::string BackupReport::ToPrometheus() const {
  return PromText()
      .Gauge("tradestore_backup_bytes", "Size of the last backup's dump.",
             manifest.size)
      .Gauge("tradestore_backup_trades_rows", "Trades in the last backup.",
             manifest.trades.rows)
      .Gauge("tradestore_backup_deleted", "Backups retention deleted.",
             static_cast<uint64_t>(deleted.size()))
      .Take();
}

void BackupReport::PrintSummary(std::ostream& out) const {
  out << absl::StrFormat(
      "backup: %s to %s\n  %d bytes, sha256 %s\n  %d trades (max id %s), "
      "dumped in %.2f s, %.2f s in all\n",
      manifest.name, destination, manifest.size, manifest.sha256,
      manifest.trades.rows,
      manifest.trades.max_id ? std::to_string(*manifest.trades.max_id) : "-",
      manifest.dump_seconds, duration_s);
  for (const std::string& name : deleted) {
    out << "  retention deleted " << name << "\n";
  }
  for (const std::string& problem : problems) {
    out << "  PROBLEM " << problem << "\n";
  }
  for (const std::string& note : notes) out << "  note: " << note << "\n";
}

}  // namespace tradestore::ops
