#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "source/canary/time.h"

namespace modgate::canary {

enum class RolloutState {
  // Holding the current stage's weight; advances by itself when its gates pass.
  kProgressing,
  // Holding the current stage's weight until resumed or advanced by hand.
  // Gates are still evaluated and still roll back: a pause is an operator's
  // hold, not a reason to keep serving a failing canary.
  kPaused,
  // The canary has all traffic (100%). Terminal.
  kCompleted,
  // A gate failed: the canary has no traffic (0%). Terminal until restarted.
  kRolledBack,
  // Stopped by hand: the canary has no traffic (0%). Terminal until restarted.
  kAborted,
};

// "progressing", "paused", "completed", "rolled_back", "aborted".
std::string_view rolloutStateName(RolloutState state);

// The state rolloutStateName() names; nullopt for any other text.
std::optional<RolloutState> parseRolloutState(std::string_view name);

// Completed, rolled back and aborted rollouts no longer change by themselves.
bool isTerminal(RolloutState state);

// One change of a rollout's state, stage or weight, and why.
struct HistoryEntry {
  MonotonicTime time;
  RolloutState from_state = RolloutState::kProgressing;
  RolloutState to_state = RolloutState::kProgressing;
  size_t from_stage = 0;
  size_t to_stage = 0;
  uint32_t from_weight = 0;
  uint32_t to_weight = 0;
  std::string reason;
};

}  // namespace modgate::canary
