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

bool isTerminal(RolloutState state) {
  return state == RolloutState::kCompleted || state == RolloutState::kRolledBack ||
         state == RolloutState::kAborted;
}

}  // namespace modgate::canary
