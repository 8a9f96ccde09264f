#pragma once

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "source/common/grpc/service_table.h"
#include "source/control_plane/fleet.h"
#include "source/control_plane/fleet_rollouts.h"

namespace modgate::control_plane {

inline constexpr std::string_view kReportMethod =
    "/modgate.service.fleet.v1.FleetReportService/StreamReports";

// FleetReportService on the control plane's gRPC listener: each stream
// names its node in the first report and is told how often to report; every
// report is kept as the node's last report in the Fleet (GET /fleet) and
// its routes' deltas go to the fleet rollouts' windows.
class ReportService {
 public:
  // `also` (optional) hears every report too: the config rollout's gates.
  using ReportHook =
      std::function<void(const std::string& node_id, const service::fleet::v1::Report& report)>;
  ReportService(Fleet& fleet, FleetRollouts& rollouts, ReportHook also = nullptr)
      : fleet_(fleet), rollouts_(rollouts), also_(std::move(also)) {}

  void registerMethods(grpc::ServiceTable& services);

  // Tells every open stream, and the next ones, to report this often.
  void setInterval(std::chrono::milliseconds interval);
  std::chrono::milliseconds interval() const { return interval_; }

 private:
  class Stream;

  Fleet& fleet_;
  FleetRollouts& rollouts_;
  ReportHook also_;
  std::chrono::milliseconds interval_{10000};
  std::set<Stream*> streams_;
};

}  // namespace modgate::control_plane
