#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/modgate/admin/v1/rollouts.pb.h"
#include "source/canary/rollout.h"
#include "source/canary/time.h"

namespace modgate::canary {

struct NamedRollout {
  // The route (or rollout) name the admin page lists it under.
  std::string name;
  const Rollout* rollout = nullptr;
};

// One rollout's status for the admin page (schema: api/modgate/admin/v1/
// rollouts.proto): state, weight, stages, every gate's spec and last result,
// and the history. History times are monotonic; `wall_now` is the wall-clock
// reading taken with `now` and turns them into UTC timestamps people can
// match with logs ("time") next to their age ("age_seconds").
admin::v1::Rollout rolloutStatus(std::string_view name, const Rollout& rollout, MonotonicTime now,
                                 SystemTime wall_now);

// The body of GET /rollouts, in the given order.
admin::v1::Rollouts rolloutsStatus(const std::vector<NamedRollout>& rollouts, MonotonicTime now,
                                   SystemTime wall_now);

}  // namespace modgate::canary
