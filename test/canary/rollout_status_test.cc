#include "source/canary/rollout_status.h"

#include <string>

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "source/common/json/proto_json.h"

namespace modgate::canary {
namespace {

using std::chrono::seconds;

const MonotonicTime kStart = MonotonicTime() + std::chrono::hours(1000);
// 2024-05-01T12:00:00Z.
const SystemTime kWallStart = SystemTime() + seconds(1714564800);

class FakeWindow : public OutcomeWindow {
 public:
  WindowSnapshot snapshot(MonotonicTime, seconds) const override { return value; }
  WindowSnapshot value;
};

// The JSON the admin page serves, read back through the schema: what a
// client parsing GET /rollouts sees.
admin::v1::Rollouts parsed(const std::string& json) {
  admin::v1::Rollouts out;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &out).ok()) << json;
  return out;
}

RolloutSpec spec() {
  RolloutSpec spec;
  spec.stages = {{10, seconds(30)}, {100, seconds(30)}};
  spec.gates = {
      GateSpec::relativeToStable(GateKind::kErrorRatio, 1, 0.01, seconds(10), 20),
      GateSpec::absolute(GateKind::kContentMismatch, 0, seconds(60), 5),
  };
  spec.evaluation_interval = seconds(5);
  return spec;
}

TEST(RolloutStatusTest, FreshRollout) {
  auto rollout = Rollout::create(spec(), kStart).value();
  admin::v1::Rollouts status;
  *status.add_rollouts() = rolloutStatus("goproxy", *rollout, kStart + seconds(2), kWallStart);
  const std::string json = json::ToJson(status);
  EXPECT_NE(json.find(R"("name":"goproxy","state":"progressing","canary_weight":10,"stage":0)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("stage_entered_at":"2024-05-01T11:59:58.000Z","stage_age_seconds":2)"),
            std::string::npos)
      << json;
  // Not evaluated yet: the field is absent, not a made-up value.
  EXPECT_EQ(json.find("last_evaluated_at"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("stages":[{"weight":10,"min_duration_seconds":30},)"
                      R"({"weight":100,"min_duration_seconds":30}])"),
            std::string::npos)
      << json;
  // Gates before any evaluation: their spec, no verdict.
  EXPECT_NE(json.find(R"({"kind":"error_ratio","mode":"relative_to_stable","limit":0.01,)"
                      R"("window_seconds":10,"min_requests":20,"stable_factor":1})"),
            std::string::npos)
      << json;
  EXPECT_EQ(json.find("verdict"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("history":[{"time":"2024-05-01T11:59:58.000Z","age_seconds":2,)"
                      R"("from_state":"progressing","to_state":"progressing","from_stage":0,)"
                      R"("to_stage":0,"from_weight":0,"to_weight":10,"reason":"started"}])"),
            std::string::npos)
      << json;
  EXPECT_EQ(parsed(json).rollouts(0).gates_size(), 2);
}

TEST(RolloutStatusTest, RolledBackWithGateValuesAndEscapedReason) {
  auto rollout = Rollout::create(spec(), kStart).value();
  FakeWindow stable, canary;
  stable.value.requests = 1000;
  stable.value.error_ratio = 0.002;
  canary.value.requests = 100;
  canary.value.errors = 50;
  canary.value.error_ratio = 0.5;
  canary.value.shadow_comparisons = 2;
  rollout->evaluate(kStart + seconds(5), stable, canary);
  ASSERT_EQ(rollout->state(), RolloutState::kRolledBack);
  const std::string json = json::ToJson(
      rolloutsStatus({{"route \"a\"\n", rollout.get()}}, kStart + seconds(10), kWallStart));
  EXPECT_EQ(json.rfind(R"({"rollouts":[{"name":"route \"a\"\n","state":"rolled_back")", 0), 0u)
      << json;
  const admin::v1::Rollout read = parsed(json).rollouts(0);
  EXPECT_EQ(read.name(), "route \"a\"\n");
  EXPECT_EQ(read.canary_weight(), 0u);
  EXPECT_NE(json.find(R"("canary_weight":0)"), std::string::npos) << json;
  EXPECT_EQ(read.last_evaluated_at(), "2024-05-01T11:59:55.000Z");
  ASSERT_EQ(read.gates_size(), 2);
  const admin::v1::Gate& ratio = read.gates(0);
  EXPECT_EQ(ratio.verdict(), "fail");
  EXPECT_EQ(ratio.canary_value(), 0.5);
  // 0.01 x (1 + 0.2): rounded for reading, not 0.012000000000000002.
  EXPECT_NE(json.find(R"("threshold":0.012,)"), std::string::npos) << json;
  EXPECT_EQ(ratio.canary_requests(), 100u);
  EXPECT_EQ(ratio.stable_value(), 0.002);
  EXPECT_FALSE(ratio.stable_value_remembered());
  EXPECT_TRUE(ratio.has_stable_value_remembered());
  EXPECT_EQ(ratio.stable_requests(), 1000u);
  const admin::v1::Gate& content = read.gates(1);
  EXPECT_EQ(content.verdict(), "insufficient_data");
  EXPECT_EQ(content.canary_value(), 0);
  EXPECT_EQ(content.threshold(), 0);
  EXPECT_EQ(content.canary_requests(), 2u);
  // An absolute gate has no stable side.
  EXPECT_FALSE(content.has_stable_value());
  EXPECT_FALSE(content.has_stable_factor());
  EXPECT_EQ(read.reason().rfind("gate failed: error_ratio 0.5 > 0.012", 0), 0u) << read.reason();
  ASSERT_EQ(read.history_size(), 2);
  const admin::v1::HistoryEntry& last = read.history(1);
  EXPECT_EQ(last.to_state(), "rolled_back");
  EXPECT_EQ(last.from_stage(), 0u);
  EXPECT_EQ(last.to_stage(), 0u);
  EXPECT_EQ(last.from_weight(), 10u);
  EXPECT_EQ(last.to_weight(), 0u);
}

TEST(RolloutStatusTest, EmptyList) {
  EXPECT_EQ(json::ToJson(rolloutsStatus({}, kStart, kWallStart)), R"({"rollouts":[]})");
}

}  // namespace
}  // namespace modgate::canary
