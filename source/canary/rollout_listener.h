#pragma once

#include "source/canary/rollout_state.h"

namespace modgate::canary {

class Rollout;

// Told of every transition, on the thread that caused it (the main thread):
// where the server logs the line, updates metrics and publishes the new
// weight to the workers.
class RolloutListener {
 public:
  virtual ~RolloutListener() = default;

  virtual void onTransition(const Rollout& rollout, const HistoryEntry& entry) = 0;
};

}  // namespace modgate::canary
