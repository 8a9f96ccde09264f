#include "source/canary/rollout_state.h"

namespace modgate::canary {

std::string_view rolloutStateName(RolloutState state) {
  switch (state) {
    case RolloutState::kProgressing:
      return "progressing";
    case RolloutState::kPaused:
      return "paused";
    case RolloutState::kCompleted:
      return "completed";
    case RolloutState::kRolledBack:
      return "rolled_back";
    case RolloutState::kAborted:
      return "aborted";
  }
  return "unknown";
}

std::optional<RolloutState> parseRolloutState(std::string_view name) {
  for (RolloutState state :
       {RolloutState::kProgressing, RolloutState::kPaused, RolloutState::kCompleted,
        RolloutState::kRolledBack, RolloutState::kAborted}) {
    if (rolloutStateName(state) == name) return state;
  }
  return std::nullopt;
}

bool isTerminal(RolloutState state) {
  return state == RolloutState::kCompleted || state == RolloutState::kRolledBack ||
         state == RolloutState::kAborted;
}

}  // namespace modgate::canary
