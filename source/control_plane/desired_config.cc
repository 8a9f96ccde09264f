#include "source/control_plane/desired_config.h"

#include <dirent.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "source/common/network/address.h"
#include "source/config/defaults.h"
#include "source/config/error_list.h"
#include "source/config/glob_pattern.h"
#include "source/config/loader.h"
#include "source/config/validator.h"

namespace modgate::control_plane {
namespace {

bool IsConfigFileName(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;
  return absl::EndsWith(name, ".yaml") || absl::EndsWith(name, ".yml") ||
         absl::EndsWith(name, ".json");
}

absl::StatusOr<std::vector<std::string>> ListConfigFiles(const std::string& dir) {
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr) {
    return absl::NotFoundError(absl::StrCat(dir, ": cannot read the config directory"));
  }
  std::vector<std::string> names;
  while (dirent* entry = readdir(handle)) {
    std::string name = entry->d_name;
    if (!IsConfigFileName(name)) continue;
    // Regular files and symlinks to them (a ConfigMap's files are symlinks
    // into ..data).
    struct stat info;
    if (stat((dir + "/" + name).c_str(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
    names.push_back(std::move(name));
  }
  closedir(handle);
  std::sort(names.begin(), names.end());
  return names;
}

// Validates `merged` as a sidecar would after adding its defaults; errors
// are prefixed with `what`.
absl::Status ValidateDesired(const config::v1::Bootstrap& merged, const std::string& what) {
  config::v1::Bootstrap effective = merged;
  config::ApplyDefaults(effective);
  absl::Status status = config::Validate(effective);
  if (status.ok()) return status;
  return config::PrefixLines(status, what);
}

template <typename List>
void ReplaceByName(const List& overrides, List& base) {
  for (const auto& item : overrides) {
    auto it = std::find_if(base.begin(), base.end(),
                           [&](const auto& existing) { return existing.name() == item.name(); });
    if (it != base.end()) {
      *it = item;
    } else {
      *base.Add() = item;
    }
  }
}

}  // namespace

void ApplyOverrides(const config::v1::Bootstrap& overrides, config::v1::Bootstrap& base) {
  ReplaceByName(overrides.listeners(), *base.mutable_listeners());
  ReplaceByName(overrides.clusters(), *base.mutable_clusters());
  ReplaceByName(overrides.sumdbs(), *base.mutable_sumdbs());
  if (overrides.routes_size() > 0) *base.mutable_routes() = overrides.routes();
  for (const auto& [key, value] : overrides.runtime()) (*base.mutable_runtime())[key] = value;
}

bool NodeMatches(const controlplane::v1::NodeMatch& match,
                 const envoy::config::core::v3::Node& node) {
  if (!match.id_glob().empty() && fnmatch(match.id_glob().c_str(), node.id().c_str(), 0) != 0) {
    return false;
  }
  const auto& fields = node.metadata().fields();
  for (const auto& [key, value] : match.labels()) {
    auto it = fields.find(key);
    if (it == fields.end() || !it->second.has_string_value() ||
        it->second.string_value() != value) {
      return false;
    }
  }
  return true;
}

const Snapshot& DesiredConfig::snapshotFor(const envoy::config::core::v3::Node& node,
                                           std::string* group) const {
  return *snapshotPtrFor(node, group);
}

SnapshotConstPtr DesiredConfig::snapshotPtrFor(const envoy::config::core::v3::Node& node,
                                               std::string* group) const {
  for (const Group& candidate : groups) {
    if (NodeMatches(candidate.match, node)) {
      if (group != nullptr) *group = candidate.name;
      return candidate.snapshot;
    }
  }
  if (group != nullptr) group->clear();
  return base;
}

absl::StatusOr<DesiredConfig> LoadDesiredConfig(const controlplane::v1::ControlPlane& config,
                                                uint64_t generation,
                                                std::chrono::steady_clock::time_point changed_at) {
  absl::StatusOr<std::vector<std::string>> names = ListConfigFiles(config.config_dir());
  if (!names.ok()) return names.status();
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<std::string> errors;
  for (const std::string& name : *names) {
    absl::StatusOr<std::string> text = config::ReadConfigFile(config.config_dir() + "/" + name);
    if (!text.ok()) {
      errors.emplace_back(text.status().message());
      continue;
    }
    files.emplace_back(name, std::move(*text));
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  return BuildDesiredConfig(config, config.config_dir(), files, generation, changed_at);
}

absl::StatusOr<DesiredConfig> BuildDesiredConfig(
    const controlplane::v1::ControlPlane& config, const std::string& dir,
    const std::vector<std::pair<std::string, std::string>>& files, uint64_t generation,
    std::chrono::steady_clock::time_point changed_at) {
  DesiredConfig desired;
  config::v1::Bootstrap merged;
  std::string digest_input;
  std::vector<std::string> errors;
  for (const auto& [name, text] : files) {
    absl::StatusOr<config::v1::Bootstrap> file = config::LoadText(dir + "/" + name, text);
    if (!file.ok()) {
      errors.emplace_back(file.status().message());
      continue;
    }
    merged.MergeFrom(*file);
    desired.files.push_back(name);
    desired.contents.push_back(text);
    absl::StrAppend(&digest_input, name, "\n", text.size(), "\n", text);
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));

  absl::Status status = ValidateDesired(merged, dir);
  if (!status.ok()) return status;
  desired.base = BuildSnapshot(merged, generation, changed_at);
  desired.base_config = merged;
  for (const auto& group : config.node_groups()) {
    config::v1::Bootstrap effective = merged;
    ApplyOverrides(group.overrides(), effective);
    status = ValidateDesired(effective, absl::StrCat("node group ", group.name()));
    if (!status.ok()) return status;
    SnapshotConstPtr snapshot = BuildSnapshot(effective, generation, changed_at);
    desired.groups.push_back(DesiredConfig::Group{group.name(), group.match(), std::move(snapshot),
                                                  std::move(effective)});
  }
  desired.digest = ContentVersion(digest_input);
  return desired;
}

DesiredConfig RebuildDesired(const DesiredConfig& loaded,
                             const std::function<void(config::v1::Bootstrap&)>& edit,
                             uint64_t generation,
                             std::chrono::steady_clock::time_point changed_at) {
  DesiredConfig out = loaded;
  edit(out.base_config);
  out.base = BuildSnapshot(out.base_config, generation, changed_at);
  for (DesiredConfig::Group& group : out.groups) {
    edit(group.config);
    group.snapshot = BuildSnapshot(group.config, generation, changed_at);
  }
  return out;
}

absl::Status ValidateControlPlane(const controlplane::v1::ControlPlane& config) {
  config::ErrorList errors;
  if (config.config_dir().empty()) errors.Add("config_dir", "required");
  for (const auto& [field, value] :
       {std::pair<const char*, const std::string&>{"address", config.address()},
        {"admin_address", config.admin_address()}}) {
    if (!value.empty()) {
      auto address = network::parseAddress(value);
      if (!address.ok()) errors.Add(field, address.status().message());
    }
  }
  if (config.has_tls()) {
    config::ValidateDownstreamTls("tls", config.tls(), errors);
    const auto& alpn = config.tls().alpn_protocols();
    if (!alpn.empty() && std::find(alpn.begin(), alpn.end(), "h2") == alpn.end()) {
      errors.Add("tls.alpn_protocols", "must include \"h2\" (gRPC runs over HTTP/2)");
    }
  }
  if (config.debounce().seconds() < 0 || config.debounce().nanos() < 0 ||
      config.debounce().seconds() > 60) {
    errors.Add("debounce", "must be between 0 and 60s");
  }
  if (config.has_report_interval()) {
    const int64_t ms =
        config.report_interval().seconds() * 1000 + config.report_interval().nanos() / 1000000;
    if (ms < 100 || ms > 3600 * 1000) errors.Add("report_interval", "must be 100ms..1h");
  }
  std::set<std::string> names;
  for (int i = 0; i < config.node_groups_size(); ++i) {
    const auto& group = config.node_groups(i);
    const std::string path = absl::StrCat("node_groups[", i, "]");
    if (group.name().empty()) {
      errors.Add(path + ".name", "required");
    } else if (!names.insert(group.name()).second) {
      errors.Add(path + ".name", absl::StrCat("duplicate node group \"", group.name(), "\""));
    }
    if (!group.match().id_glob().empty()) {
      absl::Status status = config::ValidateGlob(group.match().id_glob());
      if (!status.ok()) errors.Add(path + ".match.id_glob", status.message());
    }
  }
  return errors.ToStatus();
}

}  // namespace modgate::control_plane
