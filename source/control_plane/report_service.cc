#include "source/control_plane/report_service.h"

#include <string>

#include "api/modgate/service/fleet/v1/fleet_report.pb.h"

namespace modgate::control_plane {
namespace {

class ReportStream : public grpc::ServerStreamHandler {
 public:
  ReportStream(Fleet& fleet, grpc::ServerStream& stream, std::chrono::seconds interval)
      : fleet_(fleet), stream_(stream), interval_(interval) {}

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
      service::fleet::v1::ReportResponse response;
      response.mutable_report_interval()->set_seconds(interval_.count());
      stream_.sendMessage(response);
    }
    fleet_.onReport(node_id_, std::move(report));
  }

 private:
  Fleet& fleet_;
  grpc::ServerStream& stream_;
  const std::chrono::seconds interval_;
  std::string node_id_;
};

}  // namespace

void ReportService::registerMethods(grpc::ServiceTable& services) {
  services.addMethod(std::string(kReportMethod), [this](grpc::ServerStream& stream) {
    return std::make_unique<ReportStream>(fleet_, stream, report_interval_);
  });
}

}  // namespace modgate::control_plane
