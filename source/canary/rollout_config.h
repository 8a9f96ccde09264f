#pragma once

#include <optional>
#include <string_view>

#include "api/modgate/config/v1/route.pb.h"
#include "source/canary/rollout.h"
#include "source/canary/rollout_spec.h"
#include "source/canary/time.h"

namespace modgate::canary {

// The rollout spec a config route describes (validated config assumed):
// what a single modgate's CanaryManager and the control plane's fleet
// rollouts both drive the engine with.
RolloutSpec rolloutSpecFromProto(const config::v1::Rollout& rollout);

// The widest gate window of `spec`, at least 60 s: how much a route's
// outcome windows must hold.
std::chrono::seconds maxGateWindow(const RolloutSpec& spec);

// An operator's command on a rollout (admin POST /rollout/<op>): "pause",
// "resume", "advance", "abort" or "restart". nullopt for another `op`;
// false when the rollout's state does not allow it.
std::optional<bool> applyOperation(Rollout& rollout, std::string_view op, MonotonicTime now,
                                   std::string reason);

}  // namespace modgate::canary
