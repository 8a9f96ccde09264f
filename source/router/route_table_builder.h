#pragma once

#include "absl/status/statusor.h"
#include "api/modgate/config/v1/bootstrap.pb.h"
#include "source/router/route_table.h"

namespace modgate::router {

// Builds the runtime route table (clusters resolved, URLs parsed) from a
// validated bootstrap. Fails only on what validation cannot know.
absl::StatusOr<RouteTableSharedPtr> buildRouteTable(const config::v1::Bootstrap& bootstrap);

}  // namespace modgate::router
