#include "source/config/xds/report_stream.h"

#include <prometheus/counter.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "source/common/common/logger.h"

namespace modgate::config::xds {

ReportStream::ReportStream(event::Dispatcher& dispatcher,
                           upstream::Http2ClientConnection& connection, std::string authority,
                           const envoy::config::core::v3::Node& node, FillReport fill,
                           prometheus::Counter& sent)
    : dispatcher_(dispatcher),
      connection_(connection),
      authority_(std::move(authority)),
      node_(node),
      fill_(std::move(fill)),
      sent_(sent) {
  send_timer_ = dispatcher_.createTimer([this] { sendReport(); });
  retry_timer_ = dispatcher_.createTimer([this] { openStream(); });
}

ReportStream::~ReportStream() {
  send_timer_->disableTimer();
  retry_timer_->disableTimer();
  closeStream();
}

void ReportStream::start() { openStream(); }

void ReportStream::openStream() {
  closeStream();
  if (!connection_.acceptsStreams()) {
    last_error_ = "the control plane's connection takes no more streams";
    retry_timer_->enableTimer(interval_);
    return;
  }
  stream_ = std::make_unique<upstream::GrpcClientStream>(
      dispatcher_, connection_.newStream(),
      static_cast<upstream::GrpcClientStreamCallbacks&>(*this));
  stream_->start(authority_, std::string(kReportPath));
  node_sent_ = false;
  last_sent_ = dispatcher_.now();
  sendReport();
}

void ReportStream::sendReport() {
  if (stream_ == nullptr) return;
  service::fleet::v1::Report report;
  if (!node_sent_) *report.mutable_node() = node_;
  const auto now = dispatcher_.now();
  const auto covered = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_sent_);
  report.mutable_interval()->set_seconds(covered.count() / 1000);
  report.mutable_interval()->set_nanos(static_cast<int32_t>(covered.count() % 1000) * 1000000);
  fill_(report);
  if (!stream_->sendMessage(report)) return;
  node_sent_ = true;
  last_sent_ = now;
  sent_.Increment();
  send_timer_->enableTimer(interval_);
}

void ReportStream::onReceiveMessage(std::string message) {
  service::fleet::v1::ReportResponse response;
  if (!response.ParseFromString(message)) {
    last_error_ = "an undecodable ReportResponse";
    return;
  }
  if (!response.has_report_interval()) return;
  const std::chrono::milliseconds wanted(response.report_interval().seconds() * 1000 +
                                         response.report_interval().nanos() / 1000000);
  const auto interval =
      std::clamp(wanted, kMinInterval, std::chrono::milliseconds(std::chrono::hours(1)));
  if (interval == interval_) return;
  interval_ = interval;
  LOG_INFO("control plane: reporting every ", interval_.count(), " ms");
  // The next report follows the new interval from the last one sent.
  const auto due = last_sent_ + interval_;
  const auto now = dispatcher_.now();
  send_timer_->enableTimer(due > now
                               ? std::chrono::duration_cast<std::chrono::milliseconds>(due - now)
                               : std::chrono::milliseconds(0));
}

void ReportStream::onRemoteClose(absl::Status status) {
  // The callee may destroy the stream from here: deferred.
  dispatcher_.deferredDelete(std::move(stream_));
  send_timer_->disableTimer();
  last_error_ = status.ToString();
  if (status.code() == absl::StatusCode::kUnimplemented) {
    LOG_INFO("control plane: no fleet reports (", last_error_, ")");
    return;
  }
  LOG_WARN("control plane: report stream ended (", last_error_, "), reopening in ",
           interval_.count(), " ms");
  retry_timer_->enableTimer(interval_);
}

void ReportStream::closeStream() {
  if (stream_ == nullptr) return;
  stream_->cancel();
  dispatcher_.deferredDelete(std::move(stream_));
}

}  // namespace modgate::config::xds
