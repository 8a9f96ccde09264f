#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "api/modgate/config/v1/bootstrap.pb.h"
#include "source/router/route_table.h"

namespace modgate::router {

// The live state of a named route's rollout and shadowing, owned by the main
// thread and shared with every snapshot built from it.
struct RouteCanaryInputs {
  // The rollout's current weight; unused on a route without rollout.
  uint32_t canary_weight_percent = 0;
  std::shared_ptr<canary::OutcomeRecorder> stable_outcomes;
  std::shared_ptr<canary::OutcomeRecorder> canary_outcomes;
  // Set when the route shadows.
  std::shared_ptr<canary::ShadowComparator> comparator;
};

// What a route table is built from besides the config.
struct RouteInputs {
  // Runtime values (the config's static layer with admin overrides on top):
  // "<runtime_key_prefix>.<cluster>" overrides a weighted cluster's weight.
  std::map<std::string, uint64_t> runtime;
  // By route name, for routes with a rollout or shadow.
  std::map<std::string, RouteCanaryInputs> canary;
  // Every route's attempts, whatever the route (RouteTable::totalOutcomes).
  std::shared_ptr<canary::OutcomeRecorder> total_outcomes;
};

// Builds the runtime route table from a validated bootstrap, resolving
// cluster names against `clusters` (the cluster manager's, which also holds
// "sumdb_<name>" for each checksum database with its own URL).
absl::StatusOr<RouteTableSharedPtr> buildRouteTable(
    const config::v1::Bootstrap& bootstrap, const std::map<std::string, ClusterSharedPtr>& clusters,
    const RouteInputs& inputs = {});

}  // namespace modgate::router
