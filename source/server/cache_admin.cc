#include "source/server/cache_admin.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <array>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "source/admin/query_params.h"
#include "source/cache/cache_kind.h"
#include "source/goproxy/module_path.h"
#include "source/goproxy/url_path.h"

namespace modgate::server {

using admin::queryValue;
namespace {

static_assert(cache::kCacheKindNames == stats::RequestLatency::kKinds,
              "a kind's index must mean the same in the cache and the request histograms");

// GET /cache/modules lists at most this many (the index may hold millions).
constexpr uint64_t kMaxTopModules = 1000;

std::string timeText(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

Admin::Response badRequest(std::string text) {
  return Admin::Response{400, "text/plain; charset=utf-8", text + "\n"};
}

}  // namespace

admin::v1::CacheReport cacheReport(const cache::Cache& cache,
                                   const std::vector<const stats::RequestLatency*>& latency) {
  constexpr size_t kKinds = stats::RequestLatency::kKinds.size();
  struct Tally {
    uint64_t entries = 0;
    uint64_t bytes = 0;
    uint64_t hits = 0;
    uint64_t requests = 0;
  };
  std::array<Tally, kKinds> tally{};
  const std::shared_ptr<const cache::Entry>* oldest = nullptr;
  const auto entries = cache.entries();
  for (const auto& entry : entries) {
    Tally& t = tally[cache::KindIndex(entry->key)];
    ++t.entries;
    t.bytes += entry->file_size;
    if (oldest == nullptr || entry->meta.stored_at_unix_ms < (*oldest)->meta.stored_at_unix_ms) {
      oldest = &entry;
    }
  }
  // Requests that asked the cache: every cache result but "none".
  uint64_t all_hits = 0, all_requests = 0;
  for (const stats::RequestLatency* worker : latency) {
    for (size_t k = 0; k < kKinds; ++k) {
      for (size_t c = 0; c + 1 < stats::RequestLatency::kCacheResults.size(); ++c) {
        const uint64_t n = worker->at(k, c).duration.snapshot().count;
        tally[k].requests += n;
        if (c == 0) tally[k].hits += n;
      }
    }
  }
  admin::v1::CacheReport report;
  const cache::CacheStats stats = cache.stats();
  report.set_entries(static_cast<uint32_t>(stats.entries));
  report.set_bytes(static_cast<double>(stats.bytes));
  report.set_hot_entries(static_cast<uint32_t>(stats.hot_entries));
  report.set_hot_bytes(static_cast<double>(stats.hot_bytes));
  report.set_evictions(static_cast<double>(stats.evictions));
  report.set_dir(cache.root());
  struct statvfs fs;
  if (::statvfs(cache.root().c_str(), &fs) == 0) {
    report.set_disk_free_bytes(static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize));
  }
  if (oldest != nullptr) {
    report.set_oldest_entry_key((*oldest)->key);
    report.set_oldest_entry_stored_at(timeText((*oldest)->meta.stored_at_unix_ms));
  }
  for (size_t k = 0; k + 1 < kKinds; ++k) {
    admin::v1::KindReport& kind = *report.add_kinds();
    kind.set_kind(std::string(stats::RequestLatency::kKinds[k]));
    kind.set_entries(static_cast<uint32_t>(tally[k].entries));
    kind.set_bytes(static_cast<double>(tally[k].bytes));
    kind.set_requests(static_cast<double>(tally[k].requests));
    kind.set_evictions(static_cast<double>(stats.kinds[k].evictions));
    kind.set_hit_ratio(tally[k].requests == 0 ? 0
                                              : static_cast<double>(tally[k].hits) /
                                                    static_cast<double>(tally[k].requests));
    all_hits += tally[k].hits;
    all_requests += tally[k].requests;
  }
  report.set_hit_ratio(
      all_requests == 0 ? 0 : static_cast<double>(all_hits) / static_cast<double>(all_requests));
  return report;
}

Admin::Response purgeModule(cache::Cache& cache, std::string_view query) {
  const std::string module = queryValue(query, "module");
  const std::string version = queryValue(query, "version");
  if (module.empty()) return badRequest("usage: POST /cache/purge?module=M[&version=V]");
  if (absl::Status status = goproxy::CheckPath(module); !status.ok()) {
    return badRequest(absl::StrCat("module: ", status.message()));
  }
  auto escaped = goproxy::EscapePath(module);
  if (!escaped.ok()) return badRequest(absl::StrCat("module: ", escaped.status().message()));
  std::vector<std::string> doomed = {goproxy::EncodeUrlPath(*escaped + "/@v/list"),
                                     goproxy::EncodeUrlPath(*escaped + "/@latest")};
  const std::string prefix = goproxy::EncodeUrlPath(*escaped + "/@v/");
  std::string version_prefix;
  if (!version.empty()) {
    if (absl::Status status = goproxy::CheckVersion(module, version); !status.ok()) {
      return badRequest(absl::StrCat("version: ", status.message()));
    }
    auto escaped_version = goproxy::EscapeVersion(version);
    if (!escaped_version.ok()) {
      return badRequest(absl::StrCat("version: ", escaped_version.status().message()));
    }
    version_prefix = goproxy::EncodeUrlPath(*escaped + "/@v/" + *escaped_version + ".");
  }
  admin::v1::PurgeResult result;
  result.set_module(module);
  result.set_version(version);
  uint64_t bytes = 0;
  for (const auto& entry : cache.entries()) {
    const std::string& key = entry->key;
    bool remove = false;
    for (const std::string& d : doomed) remove = remove || key == d;
    if (version.empty()) {
      remove = remove || absl::StartsWith(key, prefix);
    } else {
      const std::string_view rest = std::string_view(key).substr(
          absl::StartsWith(key, version_prefix) ? version_prefix.size() : key.size());
      remove = remove || rest == "info" || rest == "mod" || rest == "zip";
    }
    if (!remove) continue;
    cache.remove(key);
    bytes += entry->file_size;
    result.add_keys(key);
  }
  result.set_removed(static_cast<uint32_t>(result.keys_size()));
  result.set_bytes(static_cast<double>(bytes));
  return Admin::jsonResponse(result);
}

Admin::Response topModules(const cache::Cache& cache, std::string_view query) {
  const std::string top_text = queryValue(query, "top");
  uint64_t top = 20;
  if (!top_text.empty() &&
      (!absl::SimpleAtoi(top_text, &top) || top == 0 || top > kMaxTopModules)) {
    return badRequest(absl::StrCat("top: want a number from 1 to ", kMaxTopModules));
  }
  std::string by = queryValue(query, "by");
  if (by.empty()) by = "hits";
  if (by != "hits" && by != "bytes") return badRequest("by: want hits or bytes");

  struct Tally {
    uint64_t hits = 0;
    uint64_t bytes = 0;
    uint32_t entries = 0;
    absl::flat_hash_set<std::string_view> versions;
  };
  const std::vector<cache::EntryUsage> usage = cache.usage();
  absl::flat_hash_map<std::string_view, Tally> modules;
  for (const cache::EntryUsage& entry : usage) {
    const std::string_view module = cache::ModuleOfKey(entry.key);
    if (module.empty()) continue;
    Tally& t = modules[module];
    t.hits += entry.hits;
    t.bytes += entry.file_size;
    ++t.entries;
    const std::string_view rest = std::string_view(entry.key).substr(module.size());
    if (rest.starts_with("/@v/") && rest != "/@v/list") {
      t.versions.insert(rest.substr(4, rest.rfind('.') - 4));
    }
  }
  std::vector<std::pair<std::string_view, const Tally*>> order;
  order.reserve(modules.size());
  for (const auto& [module, tally] : modules) order.emplace_back(module, &tally);
  const bool by_hits = by == "hits";
  auto rank = [by_hits](const Tally& t) {
    return by_hits ? std::make_pair(t.hits, t.bytes) : std::make_pair(t.bytes, t.hits);
  };
  const size_t n = std::min<size_t>(top, order.size());
  std::partial_sort(order.begin(), order.begin() + n, order.end(),
                    [&rank](const auto& a, const auto& b) {
                      const auto ra = rank(*a.second), rb = rank(*b.second);
                      return ra != rb ? ra > rb : a.first < b.first;
                    });
  admin::v1::ModulesReport report;
  report.set_by(by);
  report.set_modules(static_cast<uint32_t>(modules.size()));
  for (size_t i = 0; i < n; ++i) {
    const auto& [escaped, tally] = order[i];
    admin::v1::ModuleUsage& module = *report.add_top();
    // Keys hold the escaped, URL-encoded path; show the path go users type.
    absl::StatusOr<std::string> path = goproxy::DecodeUrlPath(escaped);
    if (path.ok()) path = goproxy::UnescapePath(*path);
    module.set_module(path.ok() ? *path : std::string(escaped));
    module.set_hits(static_cast<double>(tally->hits));
    module.set_bytes(static_cast<double>(tally->bytes));
    module.set_entries(tally->entries);
    module.set_versions(static_cast<uint32_t>(tally->versions.size()));
  }
  return Admin::jsonResponse(report);
}

}  // namespace modgate::server
