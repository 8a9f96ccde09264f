#include "source/canary/rollout.h"

#include <vector>

#include "gtest/gtest.h"
#include "source/canary/sliding_window.h"

namespace modgate::canary {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const MonotonicTime kStart = MonotonicTime() + std::chrono::hours(1000);

// A window that reports whatever the test sets, for any span.
class FakeWindow : public OutcomeWindow {
 public:
  WindowSnapshot snapshot(MonotonicTime, seconds) const override { return value; }
  WindowSnapshot value;
};

WindowSnapshot healthy(uint64_t requests) {
  WindowSnapshot snapshot;
  snapshot.requests = requests;
  snapshot.p99_ms = 50;
  snapshot.shadow_comparisons = requests;
  return snapshot;
}

WindowSnapshot failing(uint64_t requests, double error_ratio) {
  WindowSnapshot snapshot = healthy(requests);
  snapshot.errors = static_cast<uint64_t>(error_ratio * static_cast<double>(requests));
  snapshot.five_xx = snapshot.errors;
  snapshot.error_ratio = error_ratio;
  return snapshot;
}

class RecordingListener : public RolloutListener {
 public:
  void onTransition(const Rollout& rollout, const HistoryEntry& entry) override {
    entries.push_back(entry);
    weights.push_back(rollout.currentCanaryWeight());
  }
  std::vector<HistoryEntry> entries;
  std::vector<uint32_t> weights;
};

RolloutSpec fiveStages(milliseconds stage_duration) {
  RolloutSpec spec;
  for (uint32_t weight : {1, 5, 10, 50, 100}) spec.stages.push_back({weight, stage_duration});
  spec.gates.push_back(
      GateSpec::relativeToStable(GateKind::kErrorRatio, 1.0, 0.01, seconds(10), 20));
  spec.gates.push_back(GateSpec::absolute(GateKind::kP99Latency, 500, seconds(10), 20));
  spec.evaluation_interval = seconds(5);
  return spec;
}

std::unique_ptr<Rollout> create(RolloutSpec spec, RolloutListener* listener = nullptr) {
  absl::StatusOr<std::unique_ptr<Rollout>> rollout =
      Rollout::create(std::move(spec), kStart, listener);
  EXPECT_TRUE(rollout.ok()) << rollout.status();
  return std::move(rollout).value();
}

TEST(RolloutSpecTest, Validation) {
  EXPECT_TRUE(validateRolloutSpec(fiveStages(seconds(30))).ok());
  RolloutSpec empty;
  EXPECT_FALSE(validateRolloutSpec(empty).ok());
  RolloutSpec not_full = fiveStages(seconds(30));
  not_full.stages.back().canary_weight_percent = 90;
  EXPECT_FALSE(validateRolloutSpec(not_full).ok());
  RolloutSpec decreasing = fiveStages(seconds(30));
  decreasing.stages[2].canary_weight_percent = 2;
  EXPECT_FALSE(validateRolloutSpec(decreasing).ok());
  RolloutSpec over = fiveStages(seconds(30));
  over.stages.back().canary_weight_percent = 101;
  EXPECT_FALSE(validateRolloutSpec(over).ok());
  RolloutSpec short_window = fiveStages(seconds(30));
  short_window.gates[0].window = seconds(2);
  EXPECT_FALSE(validateRolloutSpec(short_window).ok());
  RolloutSpec relative_content = fiveStages(seconds(30));
  relative_content.gates.push_back(
      GateSpec::relativeToStable(GateKind::kContentMismatch, 1, 0, seconds(10), 1));
  EXPECT_FALSE(validateRolloutSpec(relative_content).ok());
  RolloutSpec ratio_above_one = fiveStages(seconds(30));
  ratio_above_one.gates.push_back(GateSpec::absolute(GateKind::kErrorRatio, 2, seconds(10), 1));
  EXPECT_FALSE(validateRolloutSpec(ratio_above_one).ok());
  EXPECT_FALSE(Rollout::create(empty, kStart).ok());
}

TEST(RolloutTest, StartsAtStageZero) {
  RecordingListener listener;
  auto rollout = create(fiveStages(seconds(30)), &listener);
  EXPECT_EQ(rollout->state(), RolloutState::kProgressing);
  EXPECT_EQ(rollout->stageIndex(), 0u);
  EXPECT_EQ(rollout->currentCanaryWeight(), 1u);
  ASSERT_EQ(listener.entries.size(), 1u);
  EXPECT_EQ(listener.entries[0].from_weight, 0u);
  EXPECT_EQ(listener.entries[0].to_weight, 1u);
  EXPECT_EQ(listener.entries[0].reason, "started");
  EXPECT_TRUE(rollout->gateResults().empty());
  EXPECT_FALSE(rollout->lastEvaluatedAt().has_value());
}

TEST(RolloutTest, HoldAtMovesToAnyStageAndPauses) {
  RecordingListener listener;
  auto rollout = create(fiveStages(seconds(30)), &listener);
  EXPECT_TRUE(rollout->holdAt(kStart + seconds(1), 3, "runtime"));
  EXPECT_EQ(rollout->state(), RolloutState::kPaused);
  EXPECT_EQ(rollout->currentCanaryWeight(), 50u);
  // Holding where it already is changes nothing.
  const size_t transitions = listener.entries.size();
  EXPECT_TRUE(rollout->holdAt(kStart + seconds(2), 3, "runtime"));
  EXPECT_EQ(listener.entries.size(), transitions);
  // Lower is allowed by hand, and from a rolled-back state too.
  EXPECT_TRUE(rollout->holdAt(kStart + seconds(3), 1, "runtime"));
  EXPECT_EQ(rollout->currentCanaryWeight(), 5u);
  FakeWindow stable, canary;
  stable.value = healthy(100);
  canary.value = failing(100, 0.5);
  rollout->evaluate(kStart + seconds(40), stable, canary);
  EXPECT_EQ(rollout->state(), RolloutState::kRolledBack);
  EXPECT_TRUE(rollout->holdAt(kStart + seconds(41), 0, "runtime"));
  EXPECT_EQ(rollout->state(), RolloutState::kPaused);
  EXPECT_EQ(rollout->currentCanaryWeight(), 1u);
  EXPECT_FALSE(rollout->holdAt(kStart + seconds(42), 5, "runtime"));
}

TEST(RolloutTest, HealthyCanaryProgressesThroughEveryStageToCompleted) {
  RecordingListener listener;
  auto rollout = create(fiveStages(seconds(30)), &listener);
  FakeWindow stable, canary;
  stable.value = healthy(1000);
  canary.value = healthy(100);
  std::vector<uint32_t> weights;
  MonotonicTime now = kStart;
  for (int tick = 0; tick < 100 && rollout->state() == RolloutState::kProgressing; ++tick) {
    weights.push_back(rollout->currentCanaryWeight());
    now += seconds(5);
    rollout->evaluate(now, stable, canary);
  }
  EXPECT_EQ(rollout->state(), RolloutState::kCompleted);
  EXPECT_EQ(rollout->currentCanaryWeight(), 100u);
  // Each of the 5 stages held 30 s: 6 evaluations of 5 s each.
  EXPECT_EQ(now - kStart, seconds(150));
  EXPECT_EQ(listener.weights, (std::vector<uint32_t>{1, 5, 10, 50, 100, 100}));
  EXPECT_EQ(rollout->history().back().to_state, RolloutState::kCompleted);
  EXPECT_NE(rollout->history()[1].reason.find("gates passed: error_ratio"), std::string::npos)
      << rollout->history()[1].reason;
  // Completed is terminal: nothing changes it any more.
  canary.value = failing(100, 0.5);
  rollout->evaluate(now + seconds(5), stable, canary);
  EXPECT_EQ(rollout->state(), RolloutState::kCompleted);
  EXPECT_FALSE(rollout->abort(now, "late"));
}

TEST(RolloutTest, ProgressesWithRealWindowsAndAFakeClock) {
  auto rollout = create(fiveStages(seconds(20)));
  SlidingWindow stable(seconds(60)), canary(seconds(60));
  MonotonicTime now = kStart;
  // 100 requests a second, split by the current weight; evaluate every 5 s.
  for (int second = 0; second < 600 && rollout->state() == RolloutState::kProgressing; ++second) {
    uint32_t weight = rollout->currentCanaryWeight();
    for (int i = 0; i < 100; ++i) {
      MonotonicTime at = now + milliseconds(i * 10);
      // At least a few canary requests every second, as sticky clients give.
      bool to_canary = static_cast<uint32_t>(i) < std::max<uint32_t>(weight, 3);
      (to_canary ? canary : stable).record(Outcome::kSuccess, milliseconds(20 + i), at);
    }
    now += seconds(1);
    if (second % 5 == 4) rollout->evaluate(now, stable, canary);
  }
  EXPECT_EQ(rollout->state(), RolloutState::kCompleted);
  ASSERT_EQ(rollout->gateResults().size(), 2u);
  // At 100% the stable cluster has no traffic: the relative gate judged the
  // last stage against the baseline it remembered.
  EXPECT_TRUE(rollout->gateResults()[0].stable_value_remembered);
  EXPECT_EQ(rollout->gateResults()[0].verdict, GateVerdict::kPass);
}

TEST(RolloutTest, FailingGateRollsBackAtTheNextEvaluation) {
  RecordingListener listener;
  auto rollout = create(fiveStages(seconds(30)), &listener);
  FakeWindow stable, canary;
  stable.value = healthy(1000);
  canary.value = healthy(100);
  MonotonicTime now = kStart;
  while (rollout->stageIndex() < 2) {
    now += seconds(5);
    rollout->evaluate(now, stable, canary);
  }
  ASSERT_EQ(rollout->currentCanaryWeight(), 10u);
  const uint64_t evaluations_before = rollout->evaluations();
  canary.value = failing(100, 0.2);
  now += seconds(5);
  rollout->evaluate(now, stable, canary);
  EXPECT_EQ(rollout->state(), RolloutState::kRolledBack);
  EXPECT_EQ(rollout->evaluations(), evaluations_before + 1);
  EXPECT_EQ(rollout->currentCanaryWeight(), 0u);
  const HistoryEntry& last = rollout->history().back();
  EXPECT_EQ(last.from_weight, 10u);
  EXPECT_EQ(last.to_weight, 0u);
  EXPECT_EQ(last.time, now);
  EXPECT_NE(last.reason.find("gate failed: error_ratio 0.2 > 0.01"), std::string::npos)
      << last.reason;
  EXPECT_EQ(listener.weights.back(), 0u);
  ASSERT_EQ(rollout->gateResults().size(), 2u);
  EXPECT_EQ(rollout->gateResults()[0].verdict, GateVerdict::kFail);
  EXPECT_EQ(rollout->gateResults()[1].verdict, GateVerdict::kPass);
  // Rolled back stays rolled back, even if the canary recovers.
  canary.value = healthy(100);
  rollout->evaluate(now + seconds(5), stable, canary);
  EXPECT_EQ(rollout->state(), RolloutState::kRolledBack);
  // A rolled-back rollout is not evaluated: the count stops at the rollback.
  EXPECT_EQ(rollout->evaluations(), evaluations_before + 1);
}

TEST(RolloutTest, NoProgressWithoutMinRequests) {
  auto rollout = create(fiveStages(seconds(30)));
  FakeWindow stable, canary;
  stable.value = healthy(1000);
  // 19 requests, all failed: too few to fail the gate, too few to pass it.
  canary.value = failing(19, 1.0);
  MonotonicTime now = kStart;
  for (int tick = 0; tick < 50; ++tick) {
    now += seconds(5);
    rollout->evaluate(now, stable, canary);
  }
  EXPECT_EQ(rollout->state(), RolloutState::kProgressing);
  EXPECT_EQ(rollout->stageIndex(), 0u);
  EXPECT_EQ(rollout->gateResults()[0].verdict, GateVerdict::kInsufficientData);
  canary.value = healthy(20);
  now += seconds(5);
  rollout->evaluate(now, stable, canary);
  EXPECT_EQ(rollout->stageIndex(), 1u);
}

TEST(RolloutTest, MinDurationHoldsAStageEvenWhenGatesPass) {
  auto rollout = create(fiveStages(seconds(30)));
  FakeWindow stable, canary;
  stable.value = healthy(1000);
  canary.value = healthy(100);
  rollout->evaluate(kStart + seconds(29), stable, canary);
  EXPECT_EQ(rollout->stageIndex(), 0u);
  rollout->evaluate(kStart + seconds(30), stable, canary);
  EXPECT_EQ(rollout->stageIndex(), 1u);
  EXPECT_EQ(rollout->stageEnteredAt(), kStart + seconds(30));
}

TEST(RolloutTest, RelativeGateComparesWithStable) {
  auto rollout = create(fiveStages(seconds(0)));
  FakeWindow stable, canary;
  // The origin itself fails 30% of fetches: both clusters see it.
  stable.value = failing(1000, 0.3);
  canary.value = failing(100, 0.305);
  rollout->evaluate(kStart + seconds(5), stable, canary);
  EXPECT_EQ(rollout->stageIndex(), 1u);
  canary.value = failing(100, 0.32);
  rollout->evaluate(kStart + seconds(10), stable, canary);
  EXPECT_EQ(rollout->state(), RolloutState::kRolledBack);
}

TEST(RolloutTest, PauseHoldsResumeContinues) {
  RecordingListener listener;
  auto rollout = create(fiveStages(seconds(10)), &listener);
  FakeWindow stable, canary;
  stable.value = healthy(1000);
  canary.value = healthy(100);
  EXPECT_TRUE(rollout->pause(kStart + seconds(1), "POST /rollout/pause"));
  EXPECT_FALSE(rollout->pause(kStart + seconds(1), "again"));
  EXPECT_EQ(rollout->state(), RolloutState::kPaused);
  EXPECT_EQ(rollout->currentCanaryWeight(), 1u);
  for (int tick = 1; tick <= 10; ++tick)
    rollout->evaluate(kStart + seconds(5 * tick), stable, canary);
  EXPECT_EQ(rollout->stageIndex(), 0u);
  EXPECT_EQ(rollout->gateResults().size(), 2u);
  EXPECT_TRUE(rollout->resume(kStart + seconds(51), "resume"));
  EXPECT_FALSE(rollout->resume(kStart + seconds(51), "again"));
  // The stage has been held (and watched) for more than its 10 s.
  rollout->evaluate(kStart + seconds(55), stable, canary);
  EXPECT_EQ(rollout->stageIndex(), 1u);
  EXPECT_EQ(listener.entries[1].to_state, RolloutState::kPaused);
  EXPECT_EQ(listener.entries[1].reason, "POST /rollout/pause");
  EXPECT_EQ(listener.entries[2].to_state, RolloutState::kProgressing);
}

TEST(RolloutTest, PausedRolloutStillRollsBack) {
  auto rollout = create(fiveStages(seconds(10)));
  FakeWindow stable, canary;
  stable.value = healthy(1000);
  canary.value = failing(100, 0.5);
  rollout->pause(kStart, "hold");
  rollout->evaluate(kStart + seconds(5), stable, canary);
  EXPECT_EQ(rollout->state(), RolloutState::kRolledBack);
  EXPECT_EQ(rollout->currentCanaryWeight(), 0u);
}

TEST(RolloutTest, AdvanceSkipsToTheNextStage) {
  auto rollout = create(fiveStages(seconds(3600)));
  EXPECT_TRUE(rollout->advance(kStart + seconds(1), "by hand"));
  EXPECT_EQ(rollout->currentCanaryWeight(), 5u);
  EXPECT_EQ(rollout->stageEnteredAt(), kStart + seconds(1));
  // Advancing a paused rollout steps it and keeps it paused.
  rollout->pause(kStart + seconds(2), "hold");
  EXPECT_TRUE(rollout->advance(kStart + seconds(3), "step"));
  EXPECT_EQ(rollout->state(), RolloutState::kPaused);
  EXPECT_EQ(rollout->currentCanaryWeight(), 10u);
  EXPECT_TRUE(rollout->advance(kStart + seconds(4), "step"));
  EXPECT_TRUE(rollout->advance(kStart + seconds(5), "step"));
  EXPECT_EQ(rollout->currentCanaryWeight(), 100u);
  EXPECT_EQ(rollout->state(), RolloutState::kPaused);
  EXPECT_TRUE(rollout->advance(kStart + seconds(6), "done"));
  EXPECT_EQ(rollout->state(), RolloutState::kCompleted);
  EXPECT_FALSE(rollout->advance(kStart + seconds(7), "past the end"));
}

TEST(RolloutTest, AbortAndRestart) {
  auto rollout = create(fiveStages(seconds(10)));
  rollout->advance(kStart + seconds(1), "by hand");
  EXPECT_TRUE(rollout->abort(kStart + seconds(2), "operator: wrong build"));
  EXPECT_EQ(rollout->state(), RolloutState::kAborted);
  EXPECT_EQ(rollout->currentCanaryWeight(), 0u);
  EXPECT_EQ(rollout->history().back().reason, "operator: wrong build");
  EXPECT_EQ(rollout->history().back().from_weight, 5u);
  EXPECT_FALSE(rollout->abort(kStart + seconds(3), "again"));
  EXPECT_FALSE(rollout->pause(kStart + seconds(3), "no"));
  EXPECT_FALSE(rollout->advance(kStart + seconds(3), "no"));

  EXPECT_TRUE(rollout->restart(kStart + seconds(4), "fixed build"));
  EXPECT_EQ(rollout->state(), RolloutState::kProgressing);
  EXPECT_EQ(rollout->stageIndex(), 0u);
  EXPECT_EQ(rollout->currentCanaryWeight(), 1u);
  EXPECT_EQ(rollout->stageEnteredAt(), kStart + seconds(4));
  EXPECT_EQ(rollout->history().back().from_stage, 1u);
  EXPECT_FALSE(rollout->restart(kStart + seconds(5), "running"));
}

TEST(RolloutTest, ContentGateFailsOnAMismatch) {
  RolloutSpec spec = fiveStages(seconds(10));
  spec.gates.push_back(GateSpec::absolute(GateKind::kContentMismatch, 0, seconds(60), 50));
  auto rollout = create(spec);
  FakeWindow stable, canary;
  stable.value = healthy(1000);
  canary.value = healthy(100);
  canary.value.shadow_comparisons = 3;
  canary.value.mismatches = 1;
  rollout->evaluate(kStart + seconds(5), stable, canary);
  EXPECT_EQ(rollout->state(), RolloutState::kRolledBack);
  EXPECT_NE(rollout->history().back().reason.find("content_mismatch 1 > 0"), std::string::npos)
      << rollout->history().back().reason;
}

TEST(RolloutTest, NoGatesMeansTimeAlone) {
  RolloutSpec spec;
  spec.stages = {{50, seconds(10)}, {100, seconds(10)}};
  auto rollout = create(spec);
  FakeWindow empty;
  rollout->evaluate(kStart + seconds(10), empty, empty);
  EXPECT_EQ(rollout->currentCanaryWeight(), 100u);
  EXPECT_EQ(rollout->history().back().reason, "min_duration elapsed");
  rollout->evaluate(kStart + seconds(20), empty, empty);
  EXPECT_EQ(rollout->state(), RolloutState::kCompleted);
}

TEST(RolloutTest, HistoryIsBounded) {
  RolloutSpec spec;
  spec.stages = {{100, seconds(10)}};
  auto rollout = create(spec);
  for (int i = 0; i < 1000; ++i) {
    rollout->pause(kStart + seconds(i), "p");
    rollout->resume(kStart + seconds(i), "r");
  }
  EXPECT_EQ(rollout->history().size(), Rollout::kMaxHistory);
  EXPECT_EQ(rollout->history().back().reason, "r");
}

}  // namespace
}  // namespace modgate::canary
