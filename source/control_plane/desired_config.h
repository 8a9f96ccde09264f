#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "api/envoy/config/core/v3/base.pb.h"
#include "api/modgate/controlplane/v1/control_plane.pb.h"
#include "source/control_plane/snapshot.h"

namespace modgate::control_plane {

// The desired config read from the config directory, validated, and split
// into the snapshot each node gets: the base, or its node group's.
struct DesiredConfig {
  struct Group {
    std::string name;
    controlplane::v1::NodeMatch match;
    SnapshotConstPtr snapshot;
    // The validated config the snapshot was built from.
    config::v1::Bootstrap config;
  };
  SnapshotConstPtr base;
  config::v1::Bootstrap base_config;
  std::vector<Group> groups;
  // The files read, in merge order (names only), and a hash over their
  // names and bytes: an unchanged directory has an unchanged digest.
  std::vector<std::string> files;
  std::string digest;
  // The bytes of each of `files`, in the same order: what a config
  // rollout keeps of the version before it (RunningConfigRollout).
  std::vector<std::string> contents;

  // The snapshot for `node` and the name of its group ("" for the base).
  const Snapshot& snapshotFor(const envoy::config::core::v3::Node& node,
                              std::string* group = nullptr) const;
  SnapshotConstPtr snapshotPtrFor(const envoy::config::core::v3::Node& node,
                                  std::string* group = nullptr) const;
};

// Reads every *.yaml / *.yml / *.json of `config_dir` in name order, merges
// them, applies each node group's overrides, and validates the base and
// every group's result with the validator `modgate validate` uses (after
// its defaults). Any error (a file that does not parse, an invalid field) is
// InvalidArgument naming the file or the group and the field; nothing of
// such a config may be served.
absl::StatusOr<DesiredConfig> LoadDesiredConfig(const controlplane::v1::ControlPlane& config,
                                                uint64_t generation,
                                                std::chrono::steady_clock::time_point changed_at);

// A desired config from files already read (names and bytes, in merge
// order), checked as LoadDesiredConfig does; errors name `dir`/name (the
// directory they were read from, or the state file keeping them).
absl::StatusOr<DesiredConfig> BuildDesiredConfig(
    const controlplane::v1::ControlPlane& config, const std::string& dir,
    const std::vector<std::pair<std::string, std::string>>& files, uint64_t generation,
    std::chrono::steady_clock::time_point changed_at);

// `loaded` with every snapshot built again, as `generation`, from its
// configs after `edit` ran on each: how the control plane stamps the fleet
// rollouts' weights on a desired config it already validated.
DesiredConfig RebuildDesired(const DesiredConfig& loaded,
                             const std::function<void(config::v1::Bootstrap&)>& edit,
                             uint64_t generation, std::chrono::steady_clock::time_point changed_at);

// Merges `overrides` over `base` as NodeGroup.overrides documents.
void ApplyOverrides(const config::v1::Bootstrap& overrides, config::v1::Bootstrap& base);

// True when `node` satisfies `match` (labels from the metadata's string
// fields, id by glob).
bool NodeMatches(const controlplane::v1::NodeMatch& match,
                 const envoy::config::core::v3::Node& node);

// Checks the control plane's own config (addresses, node groups' names and
// globs, the config directory); errors name the field.
absl::Status ValidateControlPlane(const controlplane::v1::ControlPlane& config);

}  // namespace modgate::control_plane
