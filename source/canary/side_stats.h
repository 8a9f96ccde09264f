#pragma once

#include "api/modgate/service/fleet/v1/fleet_report.pb.h"
#include "source/canary/outcome_counts.h"

namespace modgate::canary {

// OutcomeCounts on the wire (FleetReportService's SideStats) and back: what
// a sidecar sends for one interval and what the control plane adds into the
// fleet's windows. Latency buckets keep their index; trailing empty ones are
// left out.
void toSideStats(const OutcomeCounts& counts, service::fleet::v1::SideStats& out);
// Counts a report cannot hold (more latency buckets than there are, fewer
// requests than errors) are cut to what makes sense.
OutcomeCounts fromSideStats(const service::fleet::v1::SideStats& stats);

}  // namespace modgate::canary
