#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "api/envoy/service/discovery/v3/discovery.pb.h"
#include "api/modgate/admin/v1/xds_client_status.pb.h"
#include "api/modgate/config/v1/bootstrap.pb.h"
#include "api/modgate/config/v1/dynamic.pb.h"
#include "source/common/event/dispatcher.h"
#include "source/common/tls/client_context.h"
#include "source/config/xds/report_stream.h"
#include "source/config/xds/resource_state.h"
#include "source/upstream/connector.h"
#include "source/upstream/dns_resolver.h"
#include "source/upstream/grpc_client_stream.h"
#include "source/upstream/http2_client_connection.h"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
}  // namespace prometheus

namespace modgate::config::xds {

// A sidecar's subscription to its control plane: one aggregated xDS stream
// (Envoy's ADS; delta by default, state of the world as an option) over
// gRPC on modgate's own HTTP/2 client, for listeners, clusters, the route
// table, sumdbs and runtime.
//
// - A config is applied only once every type has had a first answer (or
//   is known from the persisted config), through `apply`: the server's
//   reload path, so a push is validated exactly like a file. Each type is
//   then ACKed (version + nonce), or NACKed with error_detail.message = the
//   validation errors, the version left at the last good one.
// - The stream fails (connect error, reset, grpc-status): reconnect after a
//   jittered exponential backoff (full jitter between 0 and base x 2^n,
//   capped at max), each attempt on the next URL of the list, so replicas
//   fail over. A delta reconnect sends initial_resource_versions, so the
//   server resends only what changed. The last good config keeps serving
//   for as long as it takes.
// - With a report source, every connection also carries a ReportStream:
//   the canary routes' outcomes for the control plane's fleet rollouts.
//
// Main thread only.
class XdsClient : private upstream::ConnectCallbacks, private upstream::GrpcClientStreamCallbacks {
 public:
  // Applies a complete dynamic config; OK when it runs, else the errors to
  // NACK with.
  using ApplyCallback = std::function<absl::Status(const v1::DynamicConfig& dynamic)>;

  // `bootstrap` holds node and control_plane (defaults applied);
  // `restored`: the config the server started with from disk, if any.
  XdsClient(event::Dispatcher& dispatcher, const v1::Bootstrap& bootstrap,
            const std::optional<v1::DynamicConfig>& restored, ApplyCallback apply,
            prometheus::Registry& registry);
  ~XdsClient() override;

  // Before start(): what each fleet report carries (see ReportStream).
  void setReportSource(ReportStream::FillReport fill) { fill_report_ = std::move(fill); }

  void start();
  // Where the config came from and how the stream is doing, for
  // /config_dump.
  admin::v1::XdsClientStatus status() const;

 private:
  struct Pending {
    std::string nonce;
    std::string version;
  };

  void connect();
  void scheduleReconnect(const std::string& why);
  void closeStream();
  void sendInitialRequests();
  void onDeltaResponse(envoy::service::discovery::v3::DeltaDiscoveryResponse response);
  void onSotwResponse(envoy::service::discovery::v3::DiscoveryResponse response);
  // Applies the candidate state once every type is known, then ACKs or
  // NACKs every pending type.
  void maybeApply();
  void sendAck(const std::string& type_url, const Pending& pending, const std::string* error);
  const std::string& currentUrl() const { return urls_[url_index_]; }

  // upstream::ConnectCallbacks
  void onConnected(network::ConnectionPtr connection) override;
  void onConnectFailure(upstream::FailureReason reason, std::string_view detail) override;
  // upstream::GrpcClientStreamCallbacks
  void onReceiveMessage(std::string message) override;
  void onRemoteClose(absl::Status status) override;

  event::Dispatcher& dispatcher_;
  const std::vector<std::string> urls_;
  const bool delta_;
  const std::chrono::milliseconds connect_timeout_;
  const std::chrono::milliseconds retry_base_;
  const std::chrono::milliseconds retry_max_;
  envoy::config::core::v3::Node node_;
  ApplyCallback apply_;

  std::unique_ptr<upstream::DnsResolver> resolver_;
  std::unique_ptr<tls::ClientContext> tls_;
  std::string tls_error_;
  event::TimerPtr retry_timer_;
  std::mt19937_64 random_;

  // One attempt at a time: connecting, then a connection with one stream.
  std::unique_ptr<upstream::Connector> connector_;
  std::unique_ptr<upstream::Http2ClientConnection> connection_;
  std::unique_ptr<upstream::GrpcClientStream> stream_;
  ReportStream::FillReport fill_report_;
  std::unique_ptr<ReportStream> reports_;
  size_t url_index_ = 0;
  uint32_t failures_ = 0;  // since the last stream that delivered a config
  bool node_sent_ = false;

  // The applied state, and this stream's responses not yet applied.
  ResourceState applied_;
  ResourceState candidate_;
  // applied_.toDynamicConfig() serialized, to skip reloads that change
  // nothing.
  std::string applied_bytes_;
  std::map<std::string, Pending> pending_;

  // For status().
  bool connected_ = false;
  int64_t state_since_unix_ms_ = 0;
  std::string last_error_;
  int64_t last_ack_unix_ms_ = 0;
  struct Nack {
    std::string type_url;
    std::string version;
    std::string message;
    int64_t at_unix_ms = 0;
  };
  std::optional<Nack> last_nack_;
  bool restored_ = false;

  prometheus::Gauge* connected_gauge_;
  prometheus::Counter* connects_;
  prometheus::Counter* stream_failures_;
  prometheus::Counter* updates_;
  prometheus::Counter* acks_;
  prometheus::Counter* nacks_;
  prometheus::Counter* reports_sent_;
};

}  // namespace modgate::config::xds
