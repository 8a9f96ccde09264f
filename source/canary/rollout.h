#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "source/canary/gate.h"
#include "source/canary/outcome_window.h"
#include "source/canary/rollout_listener.h"
#include "source/canary/rollout_spec.h"
#include "source/canary/rollout_state.h"
#include "source/canary/time.h"

namespace modgate::canary {

// The rollout state machine for one route's stable/canary split. It owns no
// timer and reads no clock: the main thread calls evaluate() every
// spec().evaluation_interval with the time and both clusters' windows, and
// publishes currentCanaryWeight() to the workers when the listener reports a
// transition. Not thread-safe: main thread only.
//
// Stage i holds its weight for at least its min_duration (counted from when
// the stage was entered, paused time included since gates are watched
// throughout) and then until every gate passes, when the next stage follows;
// passing the last stage completes the rollout. Any gate failing rolls back
// to 0% at once. Manual operations return false, and change nothing, when
// the state does not allow them.
class Rollout {
 public:
  static constexpr size_t kMaxHistory = 256;

  // Starts progressing at stage 0 as of `now`. `listener` may be null and
  // must outlive the rollout; it is told of the start too.
  static absl::StatusOr<std::unique_ptr<Rollout>> create(RolloutSpec spec, MonotonicTime now,
                                                         RolloutListener* listener = nullptr);

  // A rollout as it stood when its owner saved it (a control plane before
  // its restart): `state` at `stage`, entered at `stage_entered_at`, with
  // `history` (oldest first). No transition is made and the listener is
  // not told: nothing changed. Its gate results and stable baselines start
  // empty, as after a restart. InvalidArgument for a stage out of range.
  static absl::StatusOr<std::unique_ptr<Rollout>> restore(RolloutSpec spec, RolloutState state,
                                                          size_t stage,
                                                          MonotonicTime stage_entered_at,
                                                          std::deque<HistoryEntry> history,
                                                          RolloutListener* listener = nullptr);

  void evaluate(MonotonicTime now, const OutcomeWindow& stable, const OutcomeWindow& canary);

  // Progressing -> paused.
  bool pause(MonotonicTime now, std::string reason);
  // Paused -> progressing.
  bool resume(MonotonicTime now, std::string reason);
  // Progressing or paused: the next stage now, gates or not (keeping the
  // pause, so an operator can step through stages by hand); completes from
  // the last stage.
  bool advance(MonotonicTime now, std::string reason);
  // Progressing or paused -> aborted, 0%.
  bool abort(MonotonicTime now, std::string reason);
  // Rolled back or aborted -> progressing at stage 0. Outcomes from before
  // stay in the windows, so a canary that failed is judged on them until
  // they age out.
  bool restart(MonotonicTime now, std::string reason);

  // Any state -> paused at `stage`, lower or higher than the current one:
  // an operator's hold (runtime key rollouts.<route>.stage). Gates keep
  // being evaluated and still roll back. False for a stage out of range.
  bool holdAt(MonotonicTime now, size_t stage, std::string reason);

  RolloutState state() const { return state_; }
  size_t stageIndex() const { return stage_; }
  uint32_t currentCanaryWeight() const;
  MonotonicTime stageEnteredAt() const { return stage_entered_at_; }
  std::optional<MonotonicTime> lastEvaluatedAt() const { return last_evaluated_at_; }
  // Evaluations while active, since creation (restarts included): how far
  // apart two moments are in the rollout's own ticks, which a busy machine
  // stretches in wall time but not in count.
  uint64_t evaluations() const { return evaluations_; }
  // The last evaluation's result per gate, in spec order; empty before the
  // first evaluation of the current run.
  const std::vector<GateResult>& gateResults() const { return gate_results_; }
  // Oldest first, at most kMaxHistory entries.
  const std::deque<HistoryEntry>& history() const { return history_; }
  const RolloutSpec& spec() const { return spec_; }

 private:
  Rollout(RolloutSpec spec, RolloutListener* listener);

  void transition(MonotonicTime now, RolloutState to_state, size_t to_stage, std::string reason);
  bool active() const { return !isTerminal(state_); }
  bool nextStage(MonotonicTime now, std::string reason);

  const RolloutSpec spec_;
  RolloutListener* const listener_;
  RolloutState state_ = RolloutState::kProgressing;
  size_t stage_ = 0;
  MonotonicTime stage_entered_at_;
  std::optional<MonotonicTime> last_evaluated_at_;
  uint64_t evaluations_ = 0;
  std::vector<GateResult> gate_results_;
  // Per gate: the last fresh stable value, for relative gates once the
  // stable cluster's traffic runs dry.
  std::vector<std::optional<double>> baselines_;
  std::deque<HistoryEntry> history_;
};

}  // namespace modgate::canary
