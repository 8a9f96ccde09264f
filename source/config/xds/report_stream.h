#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/envoy/config/core/v3/base.pb.h"
#include "api/modgate/service/fleet/v1/fleet_report.pb.h"
#include "source/common/event/dispatcher.h"
#include "source/upstream/grpc_client_stream.h"
#include "source/upstream/http2_client_connection.h"

namespace prometheus {
class Counter;
}  // namespace prometheus

namespace modgate::config::xds {

inline constexpr std::string_view kReportPath =
    "/modgate.service.fleet.v1.FleetReportService/StreamReports";

// The sidecar's half of FleetReportService: one gRPC stream beside the ADS
// stream on the same HTTP/2 connection to the control plane, carrying a
// Report every interval with what each canary route saw since the previous
// one (deltas). The first report goes out at once with the node; the
// control plane answers with the interval it wants (10 s until it does).
//
// The stream's life is the connection's: XdsClient makes one per
// connection and drops it with the connection, so reconnecting and failing
// over between control plane URLs are the xDS stream's. If the report
// stream alone fails it is opened again on the same connection one interval
// later, except when the server does not implement the service (a plain
// xDS management server): then it waits for the next connection.
//
// Main thread only.
class ReportStream : private upstream::GrpcClientStreamCallbacks {
 public:
  // Adds the routes' deltas to a report about to be sent.
  using FillReport = std::function<void(service::fleet::v1::Report& report)>;

  static constexpr std::chrono::milliseconds kDefaultInterval{10000};
  static constexpr std::chrono::milliseconds kMinInterval{100};

  ReportStream(event::Dispatcher& dispatcher, upstream::Http2ClientConnection& connection,
               std::string authority, const envoy::config::core::v3::Node& node, FillReport fill,
               prometheus::Counter& sent);
  ~ReportStream() override;

  void start();

  bool open() const { return stream_ != nullptr; }
  std::chrono::milliseconds interval() const { return interval_; }
  const std::string& takeSslError() const { return last_error_; }

 private:
  void openStream();
  void sendReport();
  void closeStream();

  // upstream::GrpcClientStreamCallbacks
  void onReceiveMessage(std::string message) override;
  void onRemoteClose(absl::Status status) override;

  event::Dispatcher& dispatcher_;
  upstream::Http2ClientConnection& connection_;
  const std::string authority_;
  const envoy::config::core::v3::Node node_;
  FillReport fill_;
  prometheus::Counter& sent_;
  std::unique_ptr<upstream::GrpcClientStream> stream_;
  event::TimerPtr send_timer_;
  event::TimerPtr retry_timer_;
  std::chrono::milliseconds interval_ = kDefaultInterval;
  bool node_sent_ = false;
  event::MonotonicTime last_sent_;
  std::string last_error_;
};

}  // namespace modgate::config::xds
