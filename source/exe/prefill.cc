#include "source/exe/prefill.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "source/exe/admin_client.h"
#include "source/goproxy/module_path.h"
#include "source/goproxy/url_path.h"
#include "source/router/route_table.h"
#include "source/sumdb/dirhash.h"
#include "source/sumdb/lookup.h"
#include "source/sumdb/tlog.h"
#include "source/sumdb/zip_hash.h"

namespace modgate::exe {
namespace {

absl::Status LineError(size_t line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", what));
}

absl::Status CheckItem(size_t line, const PrefillItem& item) {
  if (absl::Status status = goproxy::CheckPath(item.module); !status.ok()) {
    return LineError(line, status.message());
  }
  if (absl::Status status = goproxy::CheckVersion(item.module, item.version); !status.ok()) {
    return LineError(line, status.message());
  }
  return absl::OkStatus();
}

// Lines without comments and surrounding blanks, numbered from 1.
std::vector<std::pair<size_t, absl::string_view>> Lines(absl::string_view text) {
  std::vector<std::pair<size_t, absl::string_view>> out;
  size_t number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (size_t hash = line.find("//"); hash != absl::string_view::npos) line = line.substr(0, hash);
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty()) out.emplace_back(number, line);
  }
  return out;
}

// Common exit of the parsers: each item checked, in first-seen order.
absl::StatusOr<std::vector<PrefillItem>> Collect(
    std::vector<std::pair<size_t, PrefillItem>> items) {
  std::vector<PrefillItem> out;
  for (auto& [line, item] : items) {
    if (absl::Status status = CheckItem(line, item); !status.ok()) return status;
    out.push_back(std::move(item));
  }
  return out;
}

// An HTTP GET through the proxy; the body, or why not.
absl::StatusOr<std::string> Get(const std::string& address, const std::string& path) {
  AdminReply reply = adminRequest(address, "GET", path);
  if (reply.status == 200) return std::move(reply.body);
  if (reply.status == 0) return absl::UnavailableError(reply.body);
  std::string reason(absl::StripAsciiWhitespace(reply.body.substr(0, 300)));
  return absl::NotFoundError(absl::StrCat(reply.status, " ", reason));
}

std::string Megabytes(uint64_t bytes) {
  char text[32];
  snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

}  // namespace

absl::StatusOr<std::vector<PrefillItem>> ParseGoSum(absl::string_view text) {
  std::vector<std::pair<size_t, PrefillItem>> items;
  std::map<std::pair<std::string, std::string>, size_t> index;
  for (const auto& [number, line] : Lines(text)) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() != 3 || !absl::StartsWith(fields[2], "h1:")) {
      return LineError(number, "want \"<module> <version>[/go.mod] h1:<hash>\"");
    }
    absl::string_view version = fields[1];
    const bool mod_line = absl::ConsumeSuffix(&version, "/go.mod");
    auto key = std::make_pair(std::string(fields[0]), std::string(version));
    auto [it, added] = index.try_emplace(key, items.size());
    if (added) {
      items.emplace_back(number, PrefillItem{key.first, key.second, "", "", true});
    }
    PrefillItem& item = items[it->second].second;
    if (mod_line) {
      item.mod_hash = std::string(fields[2]);
    } else {
      item.zip_hash = std::string(fields[2]);
      item.mod_only = false;
    }
  }
  return Collect(std::move(items));
}

absl::StatusOr<std::vector<PrefillItem>> ParseGoModRequires(absl::string_view text) {
  std::vector<std::pair<size_t, PrefillItem>> items;
  bool in_block = false;
  for (auto [number, line] : Lines(text)) {
    if (in_block) {
      if (line == ")") {
        in_block = false;
        continue;
      }
    } else if (absl::ConsumePrefix(&line, "require")) {
      line = absl::StripLeadingAsciiWhitespace(line);
      if (line == "(") {
        in_block = true;
        continue;
      }
    } else {
      continue;  // module, go, replace, exclude, retract...
    }
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() != 2) return LineError(number, "want \"<module> <version>\"");
    items.emplace_back(number, PrefillItem{std::string(fields[0]), std::string(fields[1])});
  }
  return Collect(std::move(items));
}

absl::StatusOr<std::vector<PrefillItem>> ParseModuleList(absl::string_view text) {
  std::vector<std::pair<size_t, PrefillItem>> items;
  for (const auto& [number, line] : Lines(text)) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" @"), absl::SkipEmpty());
    if (fields.size() != 2) return LineError(number, "want \"<module>@<version>\"");
    items.emplace_back(number, PrefillItem{std::string(fields[0]), std::string(fields[1])});
  }
  return Collect(std::move(items));
}

int prefill(const std::vector<PrefillItem>& items, const PrefillOptions& options) {
  std::atomic<size_t> next{0}, done{0};
  std::atomic<uint64_t> bytes{0};
  std::mutex mu;  // failures, and output lines
  std::vector<std::string> failures;
  std::vector<std::string> no_checksum_data;
  std::atomic<size_t> sumdb_skipped{0};  // GONOSUMDB / GOPRIVATE
  const auto start = std::chrono::steady_clock::now();

  std::set<std::string> tiles_fetched;  // under mu: tiles are shared by many records

  // The lookup and the tiles the go command reads to verify it, through
  // the proxy (which caches them as for any client).
  auto fetchSumdb = [&](const PrefillItem& item) -> absl::Status {
    if (options.sumdb.empty()) return absl::OkStatus();
    if (router::matchPrefixPatterns(options.no_sumdb, item.module)) {
      ++sumdb_skipped;
      return absl::OkStatus();
    }
    const std::string module = *goproxy::EscapePath(item.module);
    const std::string version = *goproxy::EscapeVersion(item.version);
    const std::string db = absl::StrCat("/sumdb/", options.sumdb, "/");
    auto failed = [](absl::string_view what, const absl::Status& status) {
      return absl::Status(status.code(),
                          absl::StrCat("checksum database ", what, ": ", status.message()));
    };
    absl::StatusOr<std::string> lookup =
        Get(options.proxy_address,
            goproxy::EncodeUrlPath(absl::StrCat(db, "lookup/", module, "@", version)));
    if (!lookup.ok()) return failed("lookup", lookup.status());
    bytes += lookup->size();
    absl::StatusOr<sumdb::Record> record = sumdb::ParseRecord(*lookup);
    if (!record.ok()) return failed("lookup", record.status());
    absl::StatusOr<sumdb::Tree> tree = sumdb::ParseTree(record->note);
    if (!tree.ok()) return failed("lookup", tree.status());
    for (const std::string& tile : sumdb::GoCommandTiles(tree->n, record->id)) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!tiles_fetched.insert(tile).second) continue;
      }
      absl::StatusOr<std::string> data = Get(options.proxy_address, db + tile);
      if (!data.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        tiles_fetched.erase(tile);  // another module version may try again
        return failed(tile, data.status());
      }
      bytes += data->size();
    }
    return absl::OkStatus();
  };

  auto fetchOne = [&](const PrefillItem& item) -> absl::Status {
    auto module = goproxy::EscapePath(item.module);
    auto version = goproxy::EscapeVersion(item.version);
    if (!module.ok() || !version.ok()) return absl::InvalidArgumentError("cannot escape");
    const std::string base = goproxy::EncodeUrlPath(absl::StrCat("/", *module, "/@v/", *version));
    absl::StatusOr<std::string> info = Get(options.proxy_address, base + ".info");
    if (!info.ok())
      return absl::Status(info.status().code(), absl::StrCat(".info: ", info.status().message()));
    absl::StatusOr<std::string> mod = Get(options.proxy_address, base + ".mod");
    if (!mod.ok())
      return absl::Status(mod.status().code(), absl::StrCat(".mod: ", mod.status().message()));
    bytes += info->size() + mod->size();
    if (!item.mod_hash.empty() && sumdb::GoModHash(*mod) != item.mod_hash) {
      return absl::DataLossError(
          absl::StrCat(".mod: go.sum has ", item.mod_hash, ", got ", sumdb::GoModHash(*mod)));
    }
    if (item.mod_only) return absl::OkStatus();
    absl::StatusOr<std::string> zip = Get(options.proxy_address, base + ".zip");
    if (!zip.ok())
      return absl::Status(zip.status().code(), absl::StrCat(".zip: ", zip.status().message()));
    bytes += zip->size();
    if (!item.zip_hash.empty()) {
      absl::StatusOr<std::string> hash = sumdb::HashZipBytes(*zip);
      if (!hash.ok()) return absl::DataLossError(absl::StrCat(".zip: ", hash.status().message()));
      if (*hash != item.zip_hash) {
        return absl::DataLossError(
            absl::StrCat(".zip: go.sum has ", item.zip_hash, ", got ", *hash));
      }
    }
    return absl::OkStatus();
  };

  auto worker = [&] {
    for (size_t i = next++; i < items.size(); i = next++) {
      const PrefillItem& item = items[i];
      absl::Status status = fetchOne(item);
      // Without it the module is cached and served, but an export of the
      // cache cannot be verified offline: said, not a failure.
      absl::Status sumdb_status = status.ok() ? fetchSumdb(item) : absl::OkStatus();
      if (status.code() == absl::StatusCode::kDataLoss) {
        // Cached but not what go.sum says: take it out again.
        // '+' (of "+incompatible") would read as a space in a query.
        adminRequest(options.admin_address, "POST",
                     absl::StrReplaceAll(absl::StrCat("/cache/purge?module=", item.module,
                                                      "&version=", item.version),
                                         {{"+", "%2B"}}));
      }
      std::lock_guard<std::mutex> lock(mu);
      ++done;
      const std::string name = absl::StrCat(item.module, "@", item.version);
      if (!status.ok()) failures.push_back(absl::StrCat(name, ": ", status.message()));
      if (!sumdb_status.ok()) {
        no_checksum_data.push_back(absl::StrCat(name, ": ", sumdb_status.message()));
      }
      if (!options.tty) {
        fprintf(stderr, "prefill: [%zu/%zu] %s %s\n", done.load(), items.size(),
                status.ok() ? "ok" : "FAILED", name.c_str());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, options.parallel); ++t) threads.emplace_back(worker);

  if (options.tty) {
    // The bar, redrawn until every worker is done.
    while (done.load() < items.size()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const size_t d = done.load();
      const double rate = seconds > 0 ? static_cast<double>(bytes.load()) / seconds : 0;
      const double eta = d == 0 ? 0 : seconds * static_cast<double>(items.size() - d) / d;
      const size_t width = 30, filled = items.empty() ? width : width * d / items.size();
      std::lock_guard<std::mutex> lock(mu);
      fprintf(stderr, "\r[%s%s] %zu/%zu  %s  %s/s  ETA %.0fs   ", std::string(filled, '#').c_str(),
              std::string(width - filled, '.').c_str(), d, items.size(),
              Megabytes(bytes.load()).c_str(), Megabytes(static_cast<uint64_t>(rate)).c_str(), eta);
    }
    fputc('\n', stderr);
  }
  for (std::thread& t : threads) t.join();

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fprintf(stderr, "prefill: %zu module versions, %zu failed, %s in %.1f s\n", items.size(),
          failures.size(), Megabytes(bytes.load()).c_str(), seconds);
  if (!options.sumdb.empty()) {
    fprintf(stderr, "prefill: checksum database %s: data for %zu, none for %zu, %zu private\n",
            options.sumdb.c_str(),
            items.size() - failures.size() - no_checksum_data.size() - sumdb_skipped.load(),
            no_checksum_data.size(), sumdb_skipped.load());
  }
  for (const std::string& missing : no_checksum_data)
    fprintf(stderr, "prefill: no checksum data for %s\n", missing.c_str());
  for (const std::string& failure : failures)
    fprintf(stderr, "prefill: FAILED %s\n", failure.c_str());
  return static_cast<int>(failures.size());
}

}  // namespace modgate::exe
