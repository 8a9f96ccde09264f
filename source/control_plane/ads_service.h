#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "source/common/grpc/service_table.h"
#include "source/control_plane/desired_config.h"
#include "source/control_plane/fleet.h"

namespace modgate::control_plane {

inline constexpr std::string_view kSotwMethod =
    "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
inline constexpr std::string_view kDeltaMethod =
    "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";

// Envoy's Aggregated Discovery Service on the control plane's gRPC listener:
// each stream runs a SotwSession or DeltaSession (the protocol) for the node
// that opened it, against the snapshot of the node's group, and reports to
// the Fleet. A new desired config reaches every open stream at once; each
// session decides what to send. Main thread only.
class AdsService {
 public:
  AdsService(Fleet& fleet, std::string identifier);
  ~AdsService();

  void registerMethods(grpc::ServiceTable& services);
  // Serves `desired` from now on: pushes what changed to every stream.
  // With a `candidate` (a config rollout running), nodes for which
  // `is_candidate_node` holds are served the candidate instead.
  void setDesired(std::shared_ptr<const DesiredConfig> desired,
                  std::shared_ptr<const DesiredConfig> candidate = nullptr,
                  std::function<bool(const std::string& node_id)> is_candidate_node = nullptr);
  bool hasDesired() const { return desired_ != nullptr; }

  // One stream; implemented in ads_service.cc.
  class Stream {
   public:
    virtual ~Stream() = default;
    virtual void onDesired() = 0;
  };

  // For the streams.
  Fleet& fleet() { return fleet_; }
  const std::string& identifier() const { return identifier_; }
  const std::shared_ptr<const DesiredConfig>& desired() const { return desired_; }
  // What `node` is served: the candidate or the desired config.
  const DesiredConfig& desiredFor(const envoy::config::core::v3::Node& node) const;
  void add(Stream& stream) { streams_.insert(&stream); }
  void remove(Stream& stream) { streams_.erase(&stream); }

 private:
  Fleet& fleet_;
  const std::string identifier_;
  std::shared_ptr<const DesiredConfig> desired_;
  std::shared_ptr<const DesiredConfig> candidate_;
  std::function<bool(const std::string&)> is_candidate_node_;
  std::set<Stream*> streams_;
};

}  // namespace modgate::control_plane
