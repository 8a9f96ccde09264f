#include "source/config/xds/xds_client.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "source/common/common/logger.h"
#include "source/common/common/time.h"
#include "source/config/dynamic_config.h"
#include "source/config/tls_context_config.h"
#include "source/config/upstream_url.h"
#include "source/upstream/threaded_dns_resolver.h"

namespace modgate::config::xds {
namespace {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

constexpr std::string_view kDeltaPath =
    "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";
constexpr std::string_view kSotwPath =
    "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
constexpr std::string_view kVersion = "0.1.0";
// google.rpc.Code INVALID_ARGUMENT, for NACKs.
constexpr int kInvalidArgument = 3;

std::chrono::milliseconds millis(const google::protobuf::Duration& d) {
  return std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1000000);
}

std::string timeText(int64_t unix_ms) {
  if (unix_ms == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

envoy::config::core::v3::Node makeNode(const v1::Node& node) {
  envoy::config::core::v3::Node out;
  out.set_id(node.id());
  out.set_cluster(node.cluster());
  out.set_user_agent_name("modgate");
  out.set_user_agent_version(std::string(kVersion));
  for (const auto& [key, value] : node.labels()) {
    (*out.mutable_metadata()->mutable_fields())[key].set_string_value(value);
  }
  return out;
}

}  // namespace

XdsClient::XdsClient(event::Dispatcher& dispatcher, const v1::Bootstrap& bootstrap,
                     const std::optional<v1::DynamicConfig>& restored, ApplyCallback apply,
                     prometheus::Registry& registry)
    : dispatcher_(dispatcher),
      urls_(bootstrap.control_plane().urls().begin(), bootstrap.control_plane().urls().end()),
      delta_(bootstrap.control_plane().api_type() == v1::ControlPlane::DELTA_GRPC),
      connect_timeout_(millis(bootstrap.control_plane().connect_timeout())),
      retry_base_(std::max(std::chrono::milliseconds(1),
                           millis(bootstrap.control_plane().retry_base_interval()))),
      retry_max_(std::max(std::chrono::milliseconds(1),
                          millis(bootstrap.control_plane().retry_max_interval()))),
      node_(makeNode(bootstrap.node())),
      apply_(std::move(apply)),
      resolver_(std::make_unique<upstream::ThreadedDnsResolver>(dispatcher)),
      random_(std::random_device{}()) {
  auto context =
      tls::ClientContext::create(ClientContextConfigOf(bootstrap.control_plane().tls(), {"h2"}));
  if (context.ok()) {
    tls_ = std::move(*context);
  } else {
    tls_error_ = absl::StrCat("control_plane.tls: ", context.status().message());
  }
  retry_timer_ = dispatcher_.createTimer([this] { connect(); });
  if (restored.has_value()) {
    applied_ = ResourceState::fromDynamicConfig(*restored);
    restored_ = true;
    auto dynamic = applied_.toDynamicConfig();
    if (dynamic.ok()) applied_bytes_ = DeterministicBytes(*dynamic);
  }

  connected_gauge_ = &prometheus::BuildGauge()
                          .Name("modgate_control_plane_connected")
                          .Help("1 while the xDS stream to the control plane is up")
                          .Register(registry)
                          .Add({});
  auto& events = prometheus::BuildCounter()
                     .Name("modgate_control_plane_events_total")
                     .Help(
                         "xDS client events: stream connects and failures, responses "
                         "received, ACKs and NACKs sent")
                     .Register(registry);
  connects_ = &events.Add({{"event", "connect"}});
  stream_failures_ = &events.Add({{"event", "stream_failure"}});
  updates_ = &events.Add({{"event", "update"}});
  acks_ = &events.Add({{"event", "ack"}});
  nacks_ = &events.Add({{"event", "nack"}});
  reports_sent_ = &events.Add({{"event", "report"}});
}

XdsClient::~XdsClient() {
  retry_timer_->disableTimer();
  // Not inside any of their callbacks here: destroyed at once, before the
  // resolver they use.
  reports_.reset();
  stream_.reset();
  connection_.reset();
  if (connector_ != nullptr) connector_->cancel();
  connector_.reset();
}

void XdsClient::start() {
  state_since_unix_ms_ = common::wallClockUnixMs();
  connect();
}

void XdsClient::connect() {
  closeStream();
  auto url = ParseUpstreamUrl(currentUrl());
  if (!url.ok()) {  // the validator checked it; say so rather than spin
    scheduleReconnect(std::string(url.status().message()));
    return;
  }
  upstream::Origin origin{url->scheme, url->host, url->port};
  connector_ = std::make_unique<upstream::Connector>(
      dispatcher_, *resolver_, tls_.get(), tls_error_, origin, connect_timeout_,
      static_cast<upstream::ConnectCallbacks&>(*this));
  connector_->start();
}

void XdsClient::onConnected(network::ConnectionPtr connection) {
  dispatcher_.deferredDelete(std::move(connector_));
  auto url = ParseUpstreamUrl(currentUrl());
  upstream::Origin origin{url->scheme, url->host, url->port};
  // The stream lives as long as the connection: no idle close while it runs.
  connection_ = std::make_unique<upstream::Http2ClientConnection>(
      std::move(connection), origin.scheme, std::chrono::hours(24));
  if (!connection_->acceptsStreams()) {
    scheduleReconnect("the control plane's HTTP/2 connection takes no stream");
    return;
  }
  stream_ = std::make_unique<upstream::GrpcClientStream>(
      dispatcher_, connection_->newStream(),
      static_cast<upstream::GrpcClientStreamCallbacks&>(*this));
  stream_->start(origin.authority(), std::string(delta_ ? kDeltaPath : kSotwPath));
  connects_->Increment();
  connected_ = true;
  connected_gauge_->Set(1);
  state_since_unix_ms_ = common::wallClockUnixMs();
  LOG_INFO("control plane: connected to ", currentUrl(), " (",
           delta_ ? "delta" : "state of the world", " xDS)");
  sendInitialRequests();
  if (fill_report_) {
    reports_ = std::make_unique<ReportStream>(dispatcher_, *connection_, origin.authority(), node_,
                                              fill_report_, *reports_sent_);
    reports_->start();
  }
}

void XdsClient::onConnectFailure(upstream::FailureReason, std::string_view detail) {
  dispatcher_.deferredDelete(std::move(connector_));
  scheduleReconnect(absl::StrCat("connect: ", std::string(detail)));
}

void XdsClient::sendInitialRequests() {
  candidate_ = applied_;
  pending_.clear();
  node_sent_ = false;
  for (const std::string& type : subscribedTypes()) {
    if (delta_) {
      DeltaDiscoveryRequest request;
      if (!node_sent_) *request.mutable_node() = node_;
      request.set_type_url(type);
      request.add_resource_names_subscribe("*");
      // What we have, so the server sends only what differs.
      if (applied_.known(type)) {
        for (const auto& [name, version] : applied_.versions(type)) {
          (*request.mutable_initial_resource_versions())[name] = version;
        }
      }
      stream_->sendMessage(request);
    } else {
      DiscoveryRequest request;
      if (!node_sent_) *request.mutable_node() = node_;
      request.set_type_url(type);
      auto it = applied_.typeVersions().find(type);
      if (it != applied_.typeVersions().end()) request.set_version_info(it->second);
      stream_->sendMessage(request);
    }
    node_sent_ = true;
  }
}

void XdsClient::onReceiveMessage(std::string message) {
  updates_->Increment();
  if (delta_) {
    DeltaDiscoveryResponse response;
    if (!response.ParseFromString(message)) {
      scheduleReconnect("an undecodable DeltaDiscoveryResponse");
      return;
    }
    onDeltaResponse(std::move(response));
  } else {
    DiscoveryResponse response;
    if (!response.ParseFromString(message)) {
      scheduleReconnect("an undecodable DiscoveryResponse");
      return;
    }
    onSotwResponse(std::move(response));
  }
}

void XdsClient::onDeltaResponse(DeltaDiscoveryResponse response) {
  const std::string type = response.type_url();
  Pending pending{response.nonce(), response.system_version_info()};
  if (std::find(subscribedTypes().begin(), subscribedTypes().end(), type) ==
      subscribedTypes().end()) {
    const std::string error = absl::StrCat("type ", type, " was not subscribed to");
    sendAck(type, pending, &error);
    return;
  }
  candidate_.applyDelta(response);
  candidate_.typeVersions()[type] = response.system_version_info();
  pending_[type] = std::move(pending);
  maybeApply();
}

void XdsClient::onSotwResponse(DiscoveryResponse response) {
  const std::string type = response.type_url();
  Pending pending{response.nonce(), response.version_info()};
  if (std::find(subscribedTypes().begin(), subscribedTypes().end(), type) ==
      subscribedTypes().end()) {
    const std::string error = absl::StrCat("type ", type, " was not subscribed to");
    sendAck(type, pending, &error);
    return;
  }
  ResourceState next = candidate_;
  if (absl::Status status = next.applySotw(response); !status.ok()) {
    const std::string error(status.message());
    sendAck(type, pending, &error);
    return;
  }
  next.typeVersions()[type] = response.version_info();
  candidate_ = std::move(next);
  pending_[type] = std::move(pending);
  maybeApply();
}

void XdsClient::maybeApply() {
  if (pending_.empty()) return;
  for (const std::string& type : subscribedTypes()) {
    // A complete config or nothing: a cluster update without the routes
    // that use it would apply a config the control plane never meant.
    if (!candidate_.known(type)) return;
  }
  absl::Status status;
  auto dynamic = candidate_.toDynamicConfig();
  if (!dynamic.ok()) {
    status = dynamic.status();
  } else if (std::string bytes = DeterministicBytes(*dynamic); bytes != applied_bytes_) {
    // (A resync that changed nothing, e.g. after a reconnect, is only
    // ACKed: no reload.)
    dynamic->set_source_url(currentUrl());
    status = apply_(*dynamic);
    if (status.ok()) applied_bytes_ = std::move(bytes);
  }
  std::map<std::string, Pending> pending = std::move(pending_);
  pending_.clear();
  if (status.ok()) {
    applied_ = candidate_;
    restored_ = false;
    failures_ = 0;
    last_ack_unix_ms_ = common::wallClockUnixMs();
    for (const auto& [type, p] : pending) sendAck(type, p, nullptr);
    return;
  }
  const std::string error(status.message());
  LOG_WARN("control plane: config rejected (NACK), still serving the last good one:\n", error);
  candidate_ = applied_;
  for (const auto& [type, p] : pending) sendAck(type, p, &error);
}

void XdsClient::sendAck(const std::string& type_url, const Pending& pending,
                        const std::string* error) {
  if (stream_ == nullptr) return;
  if (error != nullptr) {
    nacks_->Increment();
    auto it = applied_.typeVersions().find(type_url);
    last_nack_ = Nack{type_url, pending.version, *error, common::wallClockUnixMs()};
    (void)it;
  } else {
    acks_->Increment();
  }
  if (delta_) {
    DeltaDiscoveryRequest request;
    request.set_type_url(type_url);
    request.set_response_nonce(pending.nonce);
    if (error != nullptr) {
      request.mutable_error_detail()->set_code(kInvalidArgument);
      request.mutable_error_detail()->set_message(*error);
    }
    stream_->sendMessage(request);
    return;
  }
  DiscoveryRequest request;
  request.set_type_url(type_url);
  request.set_response_nonce(pending.nonce);
  if (error == nullptr) {
    request.set_version_info(pending.version);
  } else {
    // The version stays at the last one applied.
    auto it = applied_.typeVersions().find(type_url);
    if (it != applied_.typeVersions().end()) request.set_version_info(it->second);
    request.mutable_error_detail()->set_code(kInvalidArgument);
    request.mutable_error_detail()->set_message(*error);
  }
  stream_->sendMessage(request);
}

void XdsClient::onRemoteClose(absl::Status status) {
  scheduleReconnect(status.ok() ? std::string("the control plane ended the stream")
                                : absl::StrCat("stream: ", status.ToString()));
}

void XdsClient::scheduleReconnect(const std::string& why) {
  closeStream();
  if (connected_ || state_since_unix_ms_ == 0) state_since_unix_ms_ = common::wallClockUnixMs();
  connected_ = false;
  connected_gauge_->Set(0);
  last_error_ = why;
  stream_failures_->Increment();
  ++failures_;
  // Full jitter (as Envoy's backoff): a fleet that lost its control plane
  // at once does not come back at once.
  const uint32_t shift = std::min<uint32_t>(failures_ - 1, 20);
  const auto ceiling = std::min<int64_t>(retry_max_.count(), retry_base_.count() << shift);
  std::uniform_int_distribution<int64_t> draw(1, std::max<int64_t>(1, ceiling));
  const std::chrono::milliseconds delay(draw(random_));
  const std::string failed_url = currentUrl();
  url_index_ = (url_index_ + 1) % urls_.size();
  LOG_WARN("control plane ", failed_url, ": ", why, "; serving the last good config, retrying ",
           currentUrl(), " in ", delay.count(), " ms");
  retry_timer_->enableTimer(delay);
}

void XdsClient::closeStream() {
  // Before the connection it runs on.
  reports_.reset();
  if (stream_ != nullptr) {
    stream_->cancel();
    dispatcher_.deferredDelete(std::move(stream_));
  }
  if (connection_ != nullptr) {
    connection_->close();
    dispatcher_.deferredDelete(std::move(connection_));
  }
  if (connector_ != nullptr) {
    connector_->cancel();
    dispatcher_.deferredDelete(std::move(connector_));
  }
  candidate_ = applied_;
  pending_.clear();
}

admin::v1::XdsClientStatus XdsClient::status() const {
  admin::v1::XdsClientStatus status;
  status.set_url(currentUrl());
  status.set_api_type(delta_ ? "DELTA_GRPC" : "GRPC");
  status.set_connected(connected_);
  if (connected_) {
    status.set_connected_since(timeText(state_since_unix_ms_));
  } else {
    status.set_disconnected_since(timeText(state_since_unix_ms_));
  }
  status.set_last_error(last_error_);
  status.set_serving_restored_config(restored_);
  status.set_last_ack_at(timeText(last_ack_unix_ms_));
  for (const auto& [type, version] : applied_.typeVersions()) {
    (*status.mutable_acked_versions())[type] = version;
  }
  if (fill_report_) {
    admin::v1::XdsReportStreamStatus& reports = *status.mutable_reports();
    reports.set_open(reports_ != nullptr && reports_->open());
    reports.set_interval_ms(static_cast<double>(
        (reports_ != nullptr ? reports_->interval() : ReportStream::kDefaultInterval).count()));
    reports.set_last_error(reports_ != nullptr ? reports_->takeSslError() : "");
  }
  if (last_nack_.has_value()) {
    admin::v1::XdsNack& nack = *status.mutable_last_nack();
    nack.set_type_url(last_nack_->type_url);
    nack.set_version(last_nack_->version);
    nack.set_at(timeText(last_nack_->at_unix_ms));
    nack.set_error(last_nack_->message);
  }
  return status;
}

}  // namespace modgate::config::xds
