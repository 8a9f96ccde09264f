#include "source/control_plane/report_service.h"

#include <string>

#include "api/modgate/service/fleet/v1/fleet_report.pb.h"

namespace modgate::control_plane {

class ReportService::Stream : public grpc::ServerStreamHandler {
 public:
  Stream(ReportService& service, grpc::ServerStream& stream) : service_(service), stream_(stream) {
    service_.streams_.insert(this);
  }
  ~Stream() override { service_.streams_.erase(this); }

  void onMessage(std::string bytes) override {
    service::fleet::v1::Report report;
    if (!report.ParseFromString(bytes)) {
      stream_.finish(absl::InvalidArgumentError("cannot parse the report"));
      return;
    }
    if (node_id_.empty()) {
      if (report.node().id().empty()) {
        stream_.finish(
            absl::InvalidArgumentError("the first report of a stream must carry node.id"));
        return;
      }
      node_id_ = report.node().id();
      sendInterval();
    }
    service_.rollouts_.onReport(node_id_, report);
    if (service_.also_) service_.also_(node_id_, report);
    service_.fleet_.onReport(node_id_, std::move(report));
  }

  // Once the node is known: its first answer, and every change after.
  void sendInterval() {
    if (node_id_.empty() || !stream_.open()) return;
    const auto interval = service_.interval_;
    service::fleet::v1::ReportResponse response;
    response.mutable_report_interval()->set_seconds(interval.count() / 1000);
    response.mutable_report_interval()->set_nanos(static_cast<int32_t>(interval.count() % 1000) *
                                                  1000000);
    stream_.sendMessage(response);
  }

 private:
  ReportService& service_;
  grpc::ServerStream& stream_;
  std::string node_id_;
};

void ReportService::registerMethods(grpc::ServiceTable& services) {
  services.addMethod(std::string(kReportMethod), [this](grpc::ServerStream& stream) {
    return std::make_unique<Stream>(*this, stream);
  });
}

void ReportService::setInterval(std::chrono::milliseconds interval) {
  if (interval == interval_) return;
  interval_ = interval;
  for (Stream* stream : streams_) stream->sendInterval();
}

}  // namespace modgate::control_plane
