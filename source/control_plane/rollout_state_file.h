#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/modgate/controlplane/v1/rollout_state.pb.h"
#include "google/protobuf/message.h"
#include "source/canary/rollout.h"
#include "source/canary/time.h"

namespace modgate::control_plane {

// A fleet rollout's state on disk, so that a restarted control plane goes on
// where the last one stood: one JSON file per route under
// <state_dir>/rollouts/, rewritten atomically on every transition. Times are
// kept as wall-clock milliseconds and mapped to and from the process's
// monotonic clock, which does not survive a restart.

// <state_dir>/rollouts/<route, with every byte outside [A-Za-z0-9._-]
// %-escaped>.json.
std::string RolloutStatePath(const std::string& state_dir, const std::string& route);

// The routes with a state file in `state_dir` (decoded from the file
// names); empty when the directory does not exist.
std::vector<std::string> RolloutStateRoutes(const std::string& state_dir);

// What to save of `rollout` (now / wall_now: the same moment on both
// clocks).
controlplane::v1::FleetRolloutState RolloutStateOf(const std::string& route, std::string spec_hash,
                                                   const canary::Rollout& rollout,
                                                   canary::MonotonicTime now,
                                                   canary::SystemTime wall_now,
                                                   const std::string& control_plane);

// Writes any state message to `path` as JSON (protobuf's printer, field
// names as in the .proto), atomically.
absl::Status SaveStateJson(const std::string& path, const google::protobuf::Message& state);

// Reads `path` into `state`: false when there is no such file; an error
// naming the file and what it should hold (`what`) when it is not that.
absl::StatusOr<bool> LoadStateJson(const std::string& path, std::string_view what,
                                   google::protobuf::Message& state);

// Writes `state` to `path` as JSON, atomically.
absl::Status SaveRolloutState(const std::string& path,
                              const controlplane::v1::FleetRolloutState& state);

// The state at `path`; nullopt when there is none; an error naming the file
// when it cannot be read or is not a FleetRolloutState.
absl::StatusOr<std::optional<controlplane::v1::FleetRolloutState>> LoadRolloutState(
    const std::string& path);

// The rollout `state` describes, on `spec`: InvalidArgument when its state
// name or stage does not fit.
absl::StatusOr<std::unique_ptr<canary::Rollout>> RestoreRollout(
    const controlplane::v1::FleetRolloutState& state, canary::RolloutSpec spec,
    canary::MonotonicTime now, canary::SystemTime wall_now, canary::RolloutListener* listener);

}  // namespace modgate::control_plane
