#pragma once

#include <chrono>
#include <string_view>

#include "source/common/grpc/service_table.h"
#include "source/control_plane/fleet.h"

namespace modgate::control_plane {

inline constexpr std::string_view kReportMethod =
    "/modgate.service.fleet.v1.FleetReportService/StreamReports";

// FleetReportService on the control plane's gRPC listener: each stream
// names its node in the first report; every report is kept as the node's
// last report in the Fleet (GET /fleet). Adding the reports up over the
// fleet for the rollout gates is the next step (see docs/architecture.md).
class ReportService {
 public:
  ReportService(Fleet& fleet, std::chrono::seconds report_interval)
      : fleet_(fleet), report_interval_(report_interval) {}

  void registerMethods(grpc::ServiceTable& services);

 private:
  Fleet& fleet_;
  const std::chrono::seconds report_interval_;
};

}  // namespace modgate::control_plane
