#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "api/envoy/service/discovery/v3/discovery.pb.h"
#include "api/modgate/config/v1/dynamic.pb.h"
#include "google/protobuf/any.pb.h"

namespace modgate::config::xds {

// The resource types a sidecar subscribes to, as google.protobuf.Any type
// URLs of modgate's own messages (see api/modgate/config/v1/resources.proto).
inline constexpr std::string_view kListenerType = "type.googleapis.com/modgate.config.v1.Listener";
inline constexpr std::string_view kClusterType = "type.googleapis.com/modgate.config.v1.Cluster";
inline constexpr std::string_view kRouteTableType =
    "type.googleapis.com/modgate.config.v1.RouteTable";
inline constexpr std::string_view kSumDbType = "type.googleapis.com/modgate.config.v1.SumDb";
inline constexpr std::string_view kRuntimeType = "type.googleapis.com/modgate.config.v1.Runtime";
// Clusters before routes, as Envoy orders its pushes ("make before break");
// the sidecar applies them together anyway.
const std::vector<std::string>& subscribedTypes();

struct StoredResource {
  std::string version;
  google::protobuf::Any resource;
};

// What a sidecar knows of its control plane's resources: per type URL, the
// resources by name with their versions. Pure data: the xDS client keeps
// the last applied one and builds candidates from responses.
class ResourceState {
 public:
  using Resources = std::map<std::string, StoredResource>;

  // Rebuilds the state a persisted config was made from (its
  // resource_versions give the versions), so that a restarted sidecar can
  // resume a delta stream with initial_resource_versions.
  static ResourceState fromDynamicConfig(const v1::DynamicConfig& dynamic);

  // The config these resources make. InvalidArgument naming the resource
  // when one does not unpack as its type, or its name differs from the
  // resource name it was sent under.
  absl::StatusOr<v1::DynamicConfig> toDynamicConfig() const;

  // Delta: adds or replaces the response's resources and drops its
  // removed_resources, for the response's type.
  void applyDelta(const envoy::service::discovery::v3::DeltaDiscoveryResponse& response);
  // State of the world: the response's resources become the whole type
  // (named from their content), each at the response's version. Error when
  // one cannot be unpacked (so its name is unknown).
  absl::Status applySotw(const envoy::service::discovery::v3::DiscoveryResponse& response);

  // name -> version of one type, for initial_resource_versions.
  std::map<std::string, std::string> versions(const std::string& type_url) const;
  // Types that have a state (from a response or from the persisted config):
  // an absent resource of such a type is really absent, not unknown yet.
  bool known(const std::string& type_url) const { return known_types_.contains(type_url); }
  void setKnown(const std::string& type_url) { known_types_.insert(type_url); }
  // The last ACKed version_info per type (reported in /config_dump).
  std::map<std::string, std::string>& typeVersions() { return type_versions_; }
  const std::map<std::string, std::string>& typeVersions() const { return type_versions_; }
  const std::map<std::string, Resources>& types() const { return types_; }

 private:
  std::map<std::string, Resources> types_;
  std::set<std::string> known_types_;
  std::map<std::string, std::string> type_versions_;
};

}  // namespace modgate::config::xds
