#include "source/control_plane/fleet.h"

#include "source/common/common/time.h"

namespace modgate::control_plane {
namespace {

// "type.googleapis.com/modgate.config.v1.Cluster" -> "Cluster", for labels.
std::string ShortType(const std::string& type_url) {
  const size_t dot = type_url.rfind('.');
  return dot == std::string::npos ? type_url : type_url.substr(dot + 1);
}

// A report interval's counts fit a uint32: they are read as JSON numbers.
void SideReport(const service::fleet::v1::SideStats& stats, admin::v1::FleetSideReport& out) {
  out.set_requests(static_cast<uint32_t>(stats.requests()));
  out.set_responses_5xx(static_cast<uint32_t>(stats.responses_5xx()));
  out.set_upstream_failures(static_cast<uint32_t>(stats.upstream_failures()));
  out.set_shadow_matches(static_cast<uint32_t>(stats.shadow_matches()));
  out.set_shadow_mismatches(static_cast<uint32_t>(stats.shadow_mismatches()));
}

}  // namespace

Fleet::Fleet(std::shared_ptr<prometheus::Registry> registry) : registry_(std::move(registry)) {
  nodes_connected_ = &prometheus::BuildGauge()
                          .Name("modgate_cp_nodes_connected")
                          .Help("Nodes with an open xDS stream")
                          .Register(*registry_)
                          .Add({});
  pushes_ = &prometheus::BuildCounter()
                 .Name("modgate_cp_pushes_total")
                 .Help("xDS responses sent, by resource type")
                 .Register(*registry_);
  resources_sent_ = &prometheus::BuildCounter()
                         .Name("modgate_cp_resources_sent_total")
                         .Help("Resources carried by xDS responses, by resource type")
                         .Register(*registry_);
  acks_ = &prometheus::BuildCounter()
               .Name("modgate_cp_acks_total")
               .Help("xDS responses ACKed, by resource type")
               .Register(*registry_);
  nacks_ = &prometheus::BuildCounter()
                .Name("modgate_cp_nacks_total")
                .Help("xDS responses NACKed, by resource type")
                .Register(*registry_);
  fleet_ack_seconds_ =
      &prometheus::BuildHistogram()
           .Name("modgate_cp_fleet_ack_seconds")
           .Help("From a desired-config change to the last connected node's ACK of it")
           .Register(*registry_)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2,
                                                            5, 10, 30, 60});
}

Fleet::Node& Fleet::connect(const envoy::config::core::v3::Node& node, const std::string& address,
                            const std::string& protocol, const std::string& group) {
  const int64_t now_ms = common::wallClockUnixMs();
  if (now_ms - last_forget_ms_ > 60 * 1000) forgetOldNodes(now_ms);
  Node& record = nodes_[node.id()];
  record.id = node.id();
  record.cluster = node.cluster();
  record.labels.clear();
  for (const auto& [key, value] : node.metadata().fields()) {
    if (value.has_string_value()) record.labels[key] = value.string_value();
  }
  record.address = address;
  record.group = group;
  record.protocol = protocol;
  if (record.streams == 0) record.connected_since_ms = common::wallClockUnixMs();
  record.streams++;
  nodes_connected_->Set(static_cast<double>(connectedNodes()));
  return record;
}

void Fleet::forgetOldNodes(int64_t now_ms) {
  last_forget_ms_ = now_ms;
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    const Node& node = it->second;
    const bool stale =
        node.streams == 0 && now_ms - node.disconnected_at_ms > kForgetDisconnectedAfterMs;
    it = stale ? nodes_.erase(it) : std::next(it);
  }
}

void Fleet::disconnect(Node& node) {
  if (node.streams > 0) node.streams--;
  if (node.streams == 0) node.disconnected_at_ms = common::wallClockUnixMs();
  nodes_connected_->Set(static_cast<double>(connectedNodes()));
  checkFleetSynced();
}

void Fleet::onPush(Node& node, const std::string& type_url, int resources) {
  TypeStatus& type = node.types[type_url];
  type.pushes++;
  type.resources_sent += resources;
  pushes_->Add({{"type", ShortType(type_url)}}).Increment();
  resources_sent_->Add({{"type", ShortType(type_url)}}).Increment(resources);
}

void Fleet::onEvent(Node& node, const SessionEvent& event) {
  if (event.kind == SessionEvent::Kind::kAck) {
    TypeStatus& type = node.types[event.type_url];
    type.acked_version = event.version;
    type.acked_at_ms = common::wallClockUnixMs();
    acks_->Add({{"type", ShortType(event.type_url)}}).Increment();
  } else {
    node.last_nack_type = event.type_url;
    node.last_nack_text = event.message;
    node.last_nack_version = event.version;
    node.last_nack_at_ms = common::wallClockUnixMs();
    nacks_->Add({{"type", ShortType(event.type_url)}}).Increment();
  }
}

void Fleet::onSynced(Node& node, uint64_t generation) {
  if (generation <= node.synced_generation) return;
  node.synced_generation = generation;
  checkFleetSynced();
}

void Fleet::onReport(const std::string& id, service::fleet::v1::Report report) {
  Node& node = nodes_[id];
  node.id = id;
  // A node that only reports (no ADS stream) is forgotten like a
  // disconnected one.
  if (node.streams == 0 && node.disconnected_at_ms == 0) {
    node.disconnected_at_ms = common::wallClockUnixMs();
  }
  report.clear_node();
  node.last_report = std::move(report);
  node.last_report_at_ms = common::wallClockUnixMs();
}

void Fleet::onNewGeneration(uint64_t generation, std::chrono::steady_clock::time_point changed_at) {
  generation_ = generation;
  generation_changed_at_ = changed_at;
  generation_observed_ = false;
}

void Fleet::checkFleetSynced() {
  if (generation_observed_) return;
  size_t connected = 0;
  for (const auto& [id, node] : nodes_) {
    if (node.streams == 0) continue;
    connected++;
    if (node.synced_generation < generation_) return;
  }
  if (connected == 0) return;
  generation_observed_ = true;
  const std::chrono::duration<double> elapsed =
      std::chrono::steady_clock::now() - generation_changed_at_;
  fleet_ack_seconds_->Observe(elapsed.count());
}

size_t Fleet::nodesSyncedTo(uint64_t generation) const {
  size_t synced = 0;
  for (const auto& [id, node] : nodes_) {
    if (node.streams > 0 && node.synced_generation >= generation) ++synced;
  }
  return synced;
}

size_t Fleet::connectedNodes() const {
  size_t connected = 0;
  for (const auto& [id, node] : nodes_) connected += node.streams > 0 ? 1 : 0;
  return connected;
}

admin::v1::FleetStatus Fleet::status() const {
  admin::v1::FleetStatus status;
  status.set_generation(static_cast<uint32_t>(generation_));
  status.set_connected(static_cast<uint32_t>(connectedNodes()));
  for (const auto& [id, node] : nodes_) {
    admin::v1::FleetNode& out = *status.add_nodes();
    out.set_id(node.id);
    out.set_cluster(node.cluster);
    out.mutable_labels()->insert(node.labels.begin(), node.labels.end());
    out.set_address(node.address);
    out.set_group(node.group);
    out.set_protocol(node.protocol);
    out.set_connected(node.streams > 0);
    out.set_connected_since_ms(static_cast<double>(node.connected_since_ms));
    if (node.streams == 0) out.set_disconnected_at_ms(static_cast<double>(node.disconnected_at_ms));
    out.set_synced_generation(static_cast<uint32_t>(node.synced_generation));
    out.set_in_sync(node.synced_generation >= generation_);
    for (const auto& [type_url, type] : node.types) {
      admin::v1::FleetNodeType& view = (*out.mutable_types())[ShortType(type_url)];
      view.set_acked_version(type.acked_version);
      view.set_acked_at_ms(static_cast<double>(type.acked_at_ms));
      view.set_pushes(static_cast<uint32_t>(type.pushes));
      view.set_resources_sent(static_cast<uint32_t>(type.resources_sent));
    }
    if (node.last_nack_at_ms != 0) {
      admin::v1::FleetNodeNack& nack = *out.mutable_last_nack();
      nack.set_type(ShortType(node.last_nack_type));
      nack.set_version(node.last_nack_version);
      nack.set_message(node.last_nack_text);
      nack.set_at_ms(static_cast<double>(node.last_nack_at_ms));
    }
    if (node.last_report_at_ms != 0) {
      const service::fleet::v1::Report& report = node.last_report;
      admin::v1::FleetNodeReport& view = *out.mutable_last_report();
      view.set_at_ms(static_cast<double>(node.last_report_at_ms));
      view.set_interval_ms(static_cast<double>(report.interval().seconds() * 1000 +
                                               report.interval().nanos() / 1000000));
      for (const service::fleet::v1::RouteStats& route : report.routes()) {
        admin::v1::FleetRouteReport& route_view = *view.add_routes();
        route_view.set_route(route.route());
        route_view.set_canary_weight(route.canary_weight());
        SideReport(route.stable(), *route_view.mutable_stable());
        SideReport(route.canary(), *route_view.mutable_canary());
      }
    }
  }
  return status;
}

}  // namespace modgate::control_plane
