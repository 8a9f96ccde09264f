#include "source/exe/cache_export.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "source/cache/cache_kind.h"
#include "source/cache/entry_file.h"
#include "source/cache/file_util.h"
#include "source/goproxy/module_path.h"
#include "source/goproxy/pseudo_version.h"
#include "source/goproxy/semver.h"
#include "source/goproxy/url_path.h"
#include "source/router/route_table.h"

namespace modgate::exe {
namespace {

using cache::UniqueFd;

// What one module contributes to the tree.
struct ModuleFiles {
  std::set<std::string> versions;  // escaped versions with an .info or .mod
  std::string latest_body;         // the cached @latest, written if its version is here
};

struct ExportRun {
  const ExportOptions* options = nullptr;
  std::map<std::string, ModuleFiles> modules;  // by escaped module path
  std::set<std::string> sumdbs;
  uint64_t files = 0;
  uint64_t bytes = 0;
  std::vector<std::string> errors;
};
ExportRun* g_run = nullptr;  // nftw takes no context pointer

// Writes `length` bytes of `fd` from `offset` to `path` (temp file, then
// rename, so an interrupted export never leaves a short file a client
// would take for a whole one).
absl::Status CopyBody(int fd, uint64_t offset, uint64_t length, const std::string& path) {
  if (absl::Status status = cache::MakeDirs(cache::DirName(path)); !status.ok()) return status;
  const std::string temp = path + ".tmp";
  UniqueFd out(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!out.valid()) return cache::ErrnoStatus(errno, "open " + temp);
  std::string buffer(1 << 20, '\0');
  for (uint64_t done = 0; done < length;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), length - done));
    if (absl::Status status = cache::PreadFull(fd, buffer.data(), n, offset + done); !status.ok()) {
      return status;
    }
    if (absl::Status status = cache::PwriteFull(out.get(), buffer.data(), n, done); !status.ok()) {
      return status;
    }
    done += n;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) return cache::ErrnoStatus(errno, "rename " + path);
  return absl::OkStatus();
}

absl::Status WriteText(const std::string& path, std::string_view text) {
  if (absl::Status status = cache::MakeDirs(cache::DirName(path)); !status.ok()) return status;
  UniqueFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!out.valid()) return cache::ErrnoStatus(errno, "open " + path);
  return cache::PwriteFull(out.get(), text.data(), text.size(), 0);
}

// The unescaped module path of an escaped, URL-encoded one; "" if invalid.
std::string ModulePath(std::string_view escaped) {
  absl::StatusOr<std::string> path = goproxy::DecodeUrlPath(escaped);
  if (path.ok()) path = goproxy::UnescapePath(*path);
  return path.ok() ? *path : std::string();
}

void ExportEntry(const std::string& file) {
  ExportRun& run = *g_run;
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return;  // evicted meanwhile
  absl::StatusOr<cache::EntryFileInfo> info = cache::ReadEntryFileInfo(fd.get());
  // Half-written files and negative answers (404/410) are not content.
  if (!info.ok() || info->meta.status != 200) return;
  const std::string& key = info->key;
  absl::StatusOr<std::string> relative = goproxy::DecodeUrlPath(key);
  if (!relative.ok()) return;
  const cache::CacheKind kind = cache::KindOfKey(key);
  const std::string out = run.options->out_dir + "/" + *relative;
  if (kind == cache::CacheKind::kSumdb) {
    // sumdb/<name>/{latest,lookup/...,tile/...}
    const size_t slash = key.find('/', 6);
    if (slash == std::string::npos) return;
    run.sumdbs.insert(key.substr(6, slash - 6));
  } else {
    const std::string_view module = cache::ModuleOfKey(key);
    if (module.empty() || kind == cache::CacheKind::kOther) return;
    const std::string path = ModulePath(module);
    if (path.empty()) return;
    if (!run.options->modules.empty() && !router::matchPrefixPatterns(run.options->modules, path)) {
      return;
    }
    ModuleFiles& files = run.modules[std::string(module)];
    if (kind == cache::CacheKind::kList) return;  // rebuilt from what is exported
    if (kind == cache::CacheKind::kLatest) {
      files.latest_body.resize(info->meta.body_size);
      if (!cache::PreadFull(fd.get(), files.latest_body.data(), files.latest_body.size(),
                            cache::kBodyOffset)
               .ok()) {
        files.latest_body.clear();
      }
      return;
    }
    if (kind == cache::CacheKind::kInfo || kind == cache::CacheKind::kMod) {
      const std::string_view rest = std::string_view(key).substr(module.size() + 4);  // "/@v/"
      files.versions.insert(std::string(rest.substr(0, rest.rfind('.'))));
    }
  }
  if (absl::Status status = CopyBody(fd.get(), cache::kBodyOffset, info->meta.body_size, out);
      !status.ok()) {
    run.errors.push_back(absl::StrCat(key, ": ", status.message()));
    return;
  }
  ++run.files;
  run.bytes += info->meta.body_size;
}

int Visit(const char* path, const struct stat* st, int type, struct FTW*) {
  if (type == FTW_F && S_ISREG(st->st_mode)) ExportEntry(path);
  return 0;
}

// "Version" of an .info or @latest body (a JSON object the go command wrote
// or an upstream sent); "" when absent.
std::string VersionOf(std::string_view info) {
  const size_t key = info.find("\"Version\"");
  if (key == std::string_view::npos) return {};
  const size_t open = info.find('"', info.find(':', key));
  const size_t close = open == std::string_view::npos ? open : info.find('"', open + 1);
  if (close == std::string_view::npos) return {};
  return std::string(info.substr(open + 1, close - open - 1));
}

}  // namespace

int runExport(const ExportOptions& options) {
  ExportRun run;
  run.options = &options;
  g_run = &run;
  const std::string entries = options.cache_dir + "/v1";
  if (::access(entries.c_str(), R_OK | X_OK) != 0) {
    fprintf(stderr, "modgate export: no cache at %s (%s)\n", options.cache_dir.c_str(),
            strerror(errno));
    return 1;
  }
  if (absl::Status status = cache::MakeDirs(options.out_dir); !status.ok()) {
    fprintf(stderr, "modgate export: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  ::nftw(entries.c_str(), Visit, 32, FTW_PHYS);
  g_run = nullptr;

  uint64_t versions = 0, modules = 0;
  for (auto& [escaped_module, files] : run.modules) {
    if (files.versions.empty()) continue;  // only a list or @latest was cached
    const std::string dir = options.out_dir + "/" + *goproxy::DecodeUrlPath(escaped_module);
    // The list holds tagged versions only, in semver order, as proxies
    // serve it; pseudo-versions are fetched by name.
    std::vector<std::string> listed;
    std::set<std::string> unescaped;
    for (const std::string& escaped : files.versions) {
      absl::StatusOr<std::string> decoded = goproxy::DecodeUrlPath(escaped);
      if (decoded.ok()) decoded = goproxy::UnescapeVersion(*decoded);
      if (!decoded.ok() || goproxy::Canonical(*decoded) != *decoded) continue;
      unescaped.insert(*decoded);
      if (!goproxy::IsPseudoVersion(*decoded)) listed.push_back(*decoded);
    }
    std::sort(listed.begin(), listed.end(), [](const std::string& a, const std::string& b) {
      return goproxy::Compare(a, b) < 0;
    });
    std::string list;
    for (const std::string& v : listed) absl::StrAppend(&list, v, "\n");
    versions += unescaped.size();
    ++modules;
    absl::Status status = WriteText(dir + "/@v/list", list);
    if (status.ok() && unescaped.count(VersionOf(files.latest_body)) != 0) {
      status = WriteText(dir + "/@latest", files.latest_body);
    }
    if (!status.ok()) run.errors.push_back(std::string(status.message()));
  }
  // The go command asks $GOPROXY/sumdb/<name>/supported before it uses the
  // proxy for the checksum database.
  for (const std::string& name : run.sumdbs) {
    if (absl::Status status = WriteText(options.out_dir + "/sumdb/" + name + "/supported", "");
        !status.ok()) {
      run.errors.push_back(std::string(status.message()));
    }
  }
  printf(
      "modgate export: %llu modules, %llu versions, %llu files, %llu bytes, %zu checksum "
      "databases to %s\n",
      static_cast<unsigned long long>(modules), static_cast<unsigned long long>(versions),
      static_cast<unsigned long long>(run.files), static_cast<unsigned long long>(run.bytes),
      run.sumdbs.size(), options.out_dir.c_str());
  for (const std::string& error : run.errors)
    fprintf(stderr, "modgate export: %s\n", error.c_str());
  return run.errors.empty() ? 0 : 1;
}

}  // namespace modgate::exe
