#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "api/envoy/config/core/v3/base.pb.h"
#include "api/modgate/admin/v1/fleet.pb.h"
#include "api/modgate/service/fleet/v1/fleet_report.pb.h"
#include "source/control_plane/session_event.h"

namespace modgate::control_plane {

// What the control plane knows about every node that connected: the data
// behind GET /fleet and the control plane's metrics. Main thread only.
class Fleet {
 public:
  struct TypeStatus {
    std::string acked_version;
    int64_t acked_at_ms = 0;  // wall clock
    uint64_t pushes = 0;
    // Resources carried by those pushes: a delta reconnect that changed
    // nothing adds none.
    uint64_t resources_sent = 0;
  };
  struct Node {
    std::string id;
    std::string cluster;
    std::map<std::string, std::string> labels;
    std::string address;
    std::string group;     // node group, "" for none
    std::string protocol;  // "delta" or "sotw"
    int64_t connected_since_ms = 0;
    int64_t disconnected_at_ms = 0;
    int streams = 0;  // > 0: connected
    std::map<std::string, TypeStatus> types;
    std::string last_nack_type;
    std::string last_nack_text;
    std::string last_nack_version;
    int64_t last_nack_at_ms = 0;
    uint64_t synced_generation = 0;
    // The newest fleet report (FleetReportService), if any.
    service::fleet::v1::Report last_report;
    int64_t last_report_at_ms = 0;
  };

  explicit Fleet(std::shared_ptr<prometheus::Registry> registry);

  // A stream identified its node (first request). Returns the node's record,
  // valid until the Fleet is destroyed.
  Node& connect(const envoy::config::core::v3::Node& node, const std::string& address,
                const std::string& protocol, const std::string& group);
  void disconnect(Node& node);
  void onPush(Node& node, const std::string& type_url, int resources);
  void onEvent(Node& node, const SessionEvent& event);
  // The node ACKed everything of `generation` (or had nothing new in it).
  void onSynced(Node& node, uint64_t generation);
  // A report stream delivered `report` from node `id`.
  void onReport(const std::string& id, service::fleet::v1::Report report);

  // A new desired config generation starts now.
  void onNewGeneration(uint64_t generation, std::chrono::steady_clock::time_point changed_at);

  size_t connectedNodes() const;
  // Connected nodes that ACKed everything of `generation` or later.
  size_t nodesSyncedTo(uint64_t generation) const;
  // CI pods come and go with new ids: a node disconnected for longer than
  // this is forgotten (at most once a minute, on a connect).
  static constexpr int64_t kForgetDisconnectedAfterMs = 15 * 60 * 1000;
  size_t knownNodes() const { return nodes_.size(); }
  // Every known node by id (connected: streams > 0).
  const std::map<std::string, Node>& nodes() const { return nodes_; }
  // GET /fleet.
  admin::v1::FleetStatus status() const;

 private:
  // Observes the time to fleet-wide ACK once every connected node is synced
  // to the current generation.
  void checkFleetSynced();
  void forgetOldNodes(int64_t now_ms);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* nodes_connected_;
  prometheus::Family<prometheus::Counter>* pushes_;
  prometheus::Family<prometheus::Counter>* resources_sent_;
  prometheus::Family<prometheus::Counter>* acks_;
  prometheus::Family<prometheus::Counter>* nacks_;
  prometheus::Histogram* fleet_ack_seconds_;
  std::map<std::string, Node> nodes_;
  uint64_t generation_ = 0;
  std::chrono::steady_clock::time_point generation_changed_at_;
  bool generation_observed_ = true;
  int64_t last_forget_ms_ = 0;
};

}  // namespace modgate::control_plane
