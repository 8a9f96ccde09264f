#include "source/canary/gate.h"

#include "gtest/gtest.h"

namespace modgate::canary {
namespace {

using std::chrono::seconds;

WindowSnapshot traffic(uint64_t requests, double error_ratio, double p99_ms) {
  WindowSnapshot snapshot;
  snapshot.requests = requests;
  snapshot.errors = static_cast<uint64_t>(error_ratio * static_cast<double>(requests));
  snapshot.error_ratio = error_ratio;
  snapshot.p99_ms = p99_ms;
  return snapshot;
}

WindowSnapshot shadows(uint64_t comparisons, uint64_t mismatches) {
  WindowSnapshot snapshot;
  snapshot.shadow_comparisons = comparisons;
  snapshot.mismatches = mismatches;
  return snapshot;
}

TEST(GateTest, AbsoluteErrorRatio) {
  GateSpec gate = GateSpec::absolute(GateKind::kErrorRatio, 0.05, seconds(30), 100);
  WindowSnapshot stable = traffic(1000, 0, 10);
  GateResult pass = evaluateGate(gate, stable, traffic(200, 0.05, 10), std::nullopt);
  EXPECT_EQ(pass.verdict, GateVerdict::kPass);
  EXPECT_EQ(pass.threshold, 0.05);
  EXPECT_EQ(pass.canary_requests, 200u);
  GateResult fail = evaluateGate(gate, stable, traffic(200, 0.06, 10), std::nullopt);
  EXPECT_EQ(fail.verdict, GateVerdict::kFail);
  EXPECT_DOUBLE_EQ(fail.canary_value, 0.06);
}

TEST(GateTest, BelowMinRequestsNeitherPassesNorFails) {
  GateSpec gate = GateSpec::absolute(GateKind::kErrorRatio, 0.05, seconds(30), 100);
  // All 99 requests failed, but 99 < 100: not enough to judge.
  GateResult result = evaluateGate(gate, traffic(1000, 0, 10), traffic(99, 1.0, 10), std::nullopt);
  EXPECT_EQ(result.verdict, GateVerdict::kInsufficientData);
  EXPECT_NE(result.describe().find("need 100"), std::string::npos) << result.describe();
  // No requests at all, healthy or not.
  EXPECT_EQ(evaluateGate(gate, traffic(1000, 0, 10), traffic(0, 0, 0), std::nullopt).verdict,
            GateVerdict::kInsufficientData);
}

TEST(GateTest, AbsoluteP99) {
  GateSpec gate = GateSpec::absolute(GateKind::kP99Latency, 500, seconds(30), 50);
  EXPECT_EQ(evaluateGate(gate, {}, traffic(50, 0, 499), std::nullopt).verdict, GateVerdict::kPass);
  EXPECT_EQ(evaluateGate(gate, {}, traffic(50, 0, 501), std::nullopt).verdict, GateVerdict::kFail);
}

TEST(GateTest, ErrorRatioRelativeToStable) {
  // Canary error ratio at most stable + 0.01.
  GateSpec gate = GateSpec::relativeToStable(GateKind::kErrorRatio, 1.0, 0.01, seconds(30), 100);
  WindowSnapshot stable = traffic(1000, 0.02, 10);
  GateResult pass = evaluateGate(gate, stable, traffic(100, 0.029, 10), std::nullopt);
  EXPECT_EQ(pass.verdict, GateVerdict::kPass);
  ASSERT_TRUE(pass.threshold.has_value());
  EXPECT_DOUBLE_EQ(*pass.threshold, 0.03);
  EXPECT_EQ(pass.stable_value, 0.02);
  EXPECT_FALSE(pass.stable_value_remembered);
  EXPECT_EQ(evaluateGate(gate, stable, traffic(100, 0.04, 10), std::nullopt).verdict,
            GateVerdict::kFail);
  // The same canary is fine when the stable is just as bad: the upstream
  // origin is failing, not the new proxy.
  EXPECT_EQ(
      evaluateGate(gate, traffic(1000, 0.04, 10), traffic(100, 0.04, 10), std::nullopt).verdict,
      GateVerdict::kPass);
}

TEST(GateTest, P99RelativeToStable) {
  // Canary p99 at most 1.5 x stable p99.
  GateSpec gate = GateSpec::relativeToStable(GateKind::kP99Latency, 1.5, 0, seconds(30), 100);
  WindowSnapshot stable = traffic(1000, 0, 200);
  EXPECT_EQ(evaluateGate(gate, stable, traffic(100, 0, 300), std::nullopt).verdict,
            GateVerdict::kPass);
  GateResult fail = evaluateGate(gate, stable, traffic(100, 0, 301), std::nullopt);
  EXPECT_EQ(fail.verdict, GateVerdict::kFail);
  EXPECT_EQ(fail.threshold, 300);
  EXPECT_NE(fail.describe().find("p99_latency 301 > 300"), std::string::npos) << fail.describe();
}

TEST(GateTest, RelativeGateUsesTheRememberedBaselineWhenStableRunsDry) {
  GateSpec gate = GateSpec::relativeToStable(GateKind::kErrorRatio, 1.0, 0.01, seconds(30), 100);
  WindowSnapshot dry = traffic(5, 0.6, 10);
  // No baseline ever: cannot judge.
  EXPECT_EQ(evaluateGate(gate, dry, traffic(1000, 0, 10), std::nullopt).verdict,
            GateVerdict::kInsufficientData);
  GateResult remembered = evaluateGate(gate, dry, traffic(1000, 0.015, 10), 0.01);
  EXPECT_EQ(remembered.verdict, GateVerdict::kPass);
  EXPECT_EQ(remembered.stable_value, 0.01);
  EXPECT_TRUE(remembered.stable_value_remembered);
  EXPECT_EQ(evaluateGate(gate, dry, traffic(1000, 0.03, 10), 0.01).verdict, GateVerdict::kFail);
  // A fresh baseline wins over the remembered one.
  GateResult fresh = evaluateGate(gate, traffic(100, 0.05, 10), traffic(1000, 0.03, 10), 0.01);
  EXPECT_EQ(fresh.verdict, GateVerdict::kPass);
  EXPECT_FALSE(fresh.stable_value_remembered);
}

TEST(GateTest, ContentMismatchFailsOnTheFirstMismatch) {
  GateSpec gate = GateSpec::absolute(GateKind::kContentMismatch, 0, seconds(60), 50);
  // One mismatch in three comparisons fails although 3 < min_requests.
  GateResult fail = evaluateGate(gate, {}, shadows(3, 1), std::nullopt);
  EXPECT_EQ(fail.verdict, GateVerdict::kFail);
  EXPECT_EQ(fail.canary_requests, 3u);
  EXPECT_EQ(evaluateGate(gate, {}, shadows(49, 0), std::nullopt).verdict,
            GateVerdict::kInsufficientData);
  EXPECT_EQ(evaluateGate(gate, {}, shadows(50, 0), std::nullopt).verdict, GateVerdict::kPass);
}

}  // namespace
}  // namespace modgate::canary
