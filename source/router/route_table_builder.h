#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "api/modgate/config/v1/bootstrap.pb.h"
#include "source/router/route_table.h"

namespace modgate::router {

// Builds the runtime route table from a validated bootstrap, resolving
// cluster names against `clusters` (the cluster manager's, which also holds
// "sumdb_<name>" for each checksum database with its own URL).
absl::StatusOr<RouteTableSharedPtr> buildRouteTable(
    const config::v1::Bootstrap& bootstrap,
    const std::map<std::string, ClusterSharedPtr>& clusters);

}  // namespace modgate::router
