#pragma once

// The desired config of one node as xDS resources: what the control plane
// serves, immutable once built and shared by every stream that serves it.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "api/modgate/config/v1/bootstrap.pb.h"
#include "google/protobuf/any.pb.h"

namespace modgate::control_plane {

// Type URLs of the five resource types (type.googleapis.com/modgate.config.v1.<T>).
inline constexpr std::string_view kListenerType = "type.googleapis.com/modgate.config.v1.Listener";
inline constexpr std::string_view kClusterType = "type.googleapis.com/modgate.config.v1.Cluster";
inline constexpr std::string_view kRouteTableType =
    "type.googleapis.com/modgate.config.v1.RouteTable";
inline constexpr std::string_view kSumDbType = "type.googleapis.com/modgate.config.v1.SumDb";
inline constexpr std::string_view kRuntimeType = "type.googleapis.com/modgate.config.v1.Runtime";
// Names of the two singleton resources.
inline constexpr std::string_view kRouteTableName = "routes";
inline constexpr std::string_view kRuntimeName = "runtime";

// True for one of the five type URLs above.
bool IsKnownType(std::string_view type_url);

// The first 16 hex digits of the SHA-256 of `bytes`: resource versions
// (over a resource's deterministic serialization) and snapshot versions.
std::string ContentVersion(std::string_view bytes);

struct Resource {
  std::string version;
  google::protobuf::Any body;  // the packed message
};

// Every resource of one type, by name, and a version over all of them.
struct TypeSnapshot {
  std::map<std::string, Resource, std::less<>> resources;
  std::string version;  // ContentVersion of the names and versions
};

struct Snapshot {
  // Counts desired-config changes on this control plane (the generation of
  // the files it was built from); a node is in sync with generation G once
  // it ACKed everything built from G.
  uint64_t generation = 0;
  // When the change that made this generation was seen (for the histogram
  // of time to fleet-wide ACK).
  std::chrono::steady_clock::time_point changed_at;
  // ContentVersion over the type versions: equal configs, equal versions.
  std::string version;
  std::map<std::string, TypeSnapshot, std::less<>> types;  // all five types, maybe empty

  // nullptr for an unknown type.
  const TypeSnapshot* find(std::string_view type_url) const;
};
using SnapshotConstPtr = std::shared_ptr<const Snapshot>;

// Splits the xDS part of a config (listeners, clusters, routes, sumdbs,
// runtime) into resources. The rest of `config` (admin, cache, limits, ...)
// is the sidecar's own business and is not served.
SnapshotConstPtr BuildSnapshot(const config::v1::Bootstrap& config, uint64_t generation,
                               std::chrono::steady_clock::time_point changed_at);

}  // namespace modgate::control_plane
