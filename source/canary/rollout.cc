#include "source/canary/rollout.h"

#include <string>
#include <utility>

namespace modgate::canary {

absl::StatusOr<std::unique_ptr<Rollout>> Rollout::create(RolloutSpec spec, MonotonicTime now,
                                                         RolloutListener* listener) {
  absl::Status status = validateRolloutSpec(spec);
  if (!status.ok()) return status;
  std::unique_ptr<Rollout> rollout(new Rollout(std::move(spec), listener));
  rollout->transition(now, RolloutState::kProgressing, 0, "started");
  return rollout;
}

absl::StatusOr<std::unique_ptr<Rollout>> Rollout::restore(RolloutSpec spec, RolloutState state,
                                                          size_t stage,
                                                          MonotonicTime stage_entered_at,
                                                          std::deque<HistoryEntry> history,
                                                          RolloutListener* listener) {
  absl::Status status = validateRolloutSpec(spec);
  if (!status.ok()) return status;
  if (stage >= spec.stages.size()) {
    return absl::InvalidArgumentError("stage " + std::to_string(stage) + " out of range: " +
                                      std::to_string(spec.stages.size()) + " stages");
  }
  std::unique_ptr<Rollout> rollout(new Rollout(std::move(spec), listener));
  rollout->state_ = state;
  rollout->stage_ = stage;
  rollout->stage_entered_at_ = stage_entered_at;
  while (history.size() > kMaxHistory) history.pop_front();
  rollout->history_ = std::move(history);
  return rollout;
}

Rollout::Rollout(RolloutSpec spec, RolloutListener* listener)
    : spec_(std::move(spec)), listener_(listener), baselines_(spec_.gates.size()) {}

uint32_t Rollout::currentCanaryWeight() const {
  switch (state_) {
    case RolloutState::kProgressing:
    case RolloutState::kPaused:
      return spec_.stages[stage_].canary_weight_percent;
    case RolloutState::kCompleted:
      return 100;
    case RolloutState::kRolledBack:
    case RolloutState::kAborted:
      return 0;
  }
  return 0;
}

void Rollout::transition(MonotonicTime now, RolloutState to_state, size_t to_stage,
                         std::string reason) {
  HistoryEntry entry;
  entry.time = now;
  entry.from_state = state_;
  entry.from_stage = stage_;
  // The start is recorded as a move from 0%: nothing was on the canary.
  entry.from_weight = history_.empty() ? 0 : currentCanaryWeight();
  // A restart re-enters stage 0, which may be the stage it left: its clock
  // starts again too.
  if (to_stage != stage_ || history_.empty() || isTerminal(state_)) stage_entered_at_ = now;
  state_ = to_state;
  stage_ = to_stage;
  entry.to_state = state_;
  entry.to_stage = stage_;
  entry.to_weight = currentCanaryWeight();
  entry.reason = std::move(reason);
  if (history_.size() == kMaxHistory) history_.pop_front();
  history_.push_back(std::move(entry));
  if (listener_ != nullptr) listener_->onTransition(*this, history_.back());
}

bool Rollout::nextStage(MonotonicTime now, std::string reason) {
  if (stage_ + 1 == spec_.stages.size()) {
    transition(now, RolloutState::kCompleted, stage_, std::move(reason));
  } else {
    transition(now, state_, stage_ + 1, std::move(reason));
  }
  return true;
}

void Rollout::evaluate(MonotonicTime now, const OutcomeWindow& stable,
                       const OutcomeWindow& canary) {
  if (!active()) return;
  ++evaluations_;
  last_evaluated_at_ = now;
  gate_results_.clear();
  std::string failed;
  std::string passed;
  bool all_pass = true;
  for (size_t i = 0; i < spec_.gates.size(); ++i) {
    const GateSpec& gate = spec_.gates[i];
    GateResult result = evaluateGate(gate, stable.snapshot(now, gate.window),
                                     canary.snapshot(now, gate.window), baselines_[i]);
    if (result.stable_value.has_value() && !result.stable_value_remembered) {
      baselines_[i] = result.stable_value;
    }
    std::string& summary = result.verdict == GateVerdict::kFail ? failed : passed;
    if (!summary.empty()) summary += "; ";
    summary += result.describe();
    all_pass = all_pass && result.verdict == GateVerdict::kPass;
    gate_results_.push_back(std::move(result));
  }
  if (!failed.empty()) {
    transition(now, RolloutState::kRolledBack, stage_, "gate failed: " + failed);
    return;
  }
  if (state_ != RolloutState::kProgressing || !all_pass) return;
  if (now - stage_entered_at_ < spec_.stages[stage_].min_duration) return;
  nextStage(now, passed.empty() ? "min_duration elapsed" : "gates passed: " + passed);
}

bool Rollout::pause(MonotonicTime now, std::string reason) {
  if (state_ != RolloutState::kProgressing) return false;
  transition(now, RolloutState::kPaused, stage_, std::move(reason));
  return true;
}

bool Rollout::resume(MonotonicTime now, std::string reason) {
  if (state_ != RolloutState::kPaused) return false;
  transition(now, RolloutState::kProgressing, stage_, std::move(reason));
  return true;
}

bool Rollout::advance(MonotonicTime now, std::string reason) {
  if (!active()) return false;
  return nextStage(now, std::move(reason));
}

bool Rollout::abort(MonotonicTime now, std::string reason) {
  if (!active()) return false;
  transition(now, RolloutState::kAborted, stage_, std::move(reason));
  return true;
}

bool Rollout::restart(MonotonicTime now, std::string reason) {
  if (state_ != RolloutState::kRolledBack && state_ != RolloutState::kAborted) return false;
  gate_results_.clear();
  transition(now, RolloutState::kProgressing, 0, std::move(reason));
  return true;
}

bool Rollout::holdAt(MonotonicTime now, size_t stage, std::string reason) {
  if (stage >= spec_.stages.size()) return false;
  if (state_ == RolloutState::kPaused && stage_ == stage) return true;
  if (state_ == RolloutState::kRolledBack || state_ == RolloutState::kAborted) {
    gate_results_.clear();
  }
  transition(now, RolloutState::kPaused, stage, std::move(reason));
  return true;
}

}  // namespace modgate::canary
