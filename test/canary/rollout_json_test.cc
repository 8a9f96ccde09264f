#include "source/canary/rollout_json.h"

#include <string>

#include "gtest/gtest.h"

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

// Brackets balance outside strings, and strings close: enough to catch a
// writer that drops a comma-separated element's closing or escapes badly.
bool structurallyValid(const std::string& json) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        return false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    if (depth < 0) return false;
    if (c == ',' && i + 1 < json.size() &&
        (json[i + 1] == ',' || json[i + 1] == '}' || json[i + 1] == ']')) {
      return false;
    }
  }
  return depth == 0 && !in_string;
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

TEST(RolloutJsonTest, FreshRollout) {
  auto rollout = Rollout::create(spec(), kStart).value();
  std::string json = renderRolloutJson("goproxy", *rollout, kStart + seconds(2), kWallStart);
  EXPECT_TRUE(structurallyValid(json)) << json;
  EXPECT_NE(json.find(R"("name":"goproxy","state":"progressing","canary_weight":10,"stage":0)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("stage_entered_at":"2024-05-01T11:59:58.000Z","stage_age_seconds":2)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("last_evaluated_at":null)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("stages":[{"weight":10,"min_duration_seconds":30},)"
                      R"({"weight":100,"min_duration_seconds":30}])"),
            std::string::npos)
      << json;
  // Gates before any evaluation: their spec, no verdict.
  EXPECT_NE(json.find(R"({"kind":"error_ratio","mode":"relative_to_stable","limit":0.01,)"
                      R"("stable_factor":1,"window_seconds":10,"min_requests":20,"verdict":null})"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("history":[{"time":"2024-05-01T11:59:58.000Z","age_seconds":2,)"
                      R"("from_state":"progressing","to_state":"progressing","from_stage":0,)"
                      R"("to_stage":0,"from_weight":0,"to_weight":10,"reason":"started"}])"),
            std::string::npos)
      << json;
}

TEST(RolloutJsonTest, RolledBackWithGateValuesAndEscapedReason) {
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
  std::string json =
      renderRolloutsJson({{"route \"a\"\n", rollout.get()}}, kStart + seconds(10), kWallStart);
  EXPECT_TRUE(structurallyValid(json)) << json;
  EXPECT_EQ(json.rfind(R"({"rollouts":[{"name":"route \"a\"\n","state":"rolled_back")", 0), 0u)
      << json;
  EXPECT_NE(json.find(R"("canary_weight":0)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("last_evaluated_at":"2024-05-01T11:59:55.000Z")"), std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("verdict":"fail","canary_value":0.5,"threshold":0.012,)"
                      R"("canary_requests":100,"stable_value":0.002,)"
                      R"("stable_value_remembered":false,"stable_requests":1000})"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("verdict":"insufficient_data","canary_value":0,"threshold":0,)"
                      R"("canary_requests":2})"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("reason":"gate failed: error_ratio 0.5 > 0.012)"), std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("to_state":"rolled_back","from_stage":0,"to_stage":0,)"
                      R"("from_weight":10,"to_weight":0)"),
            std::string::npos)
      << json;
}

TEST(RolloutJsonTest, EmptyList) {
  EXPECT_EQ(renderRolloutsJson({}, kStart, kWallStart), R"({"rollouts":[]})");
}

}  // namespace
}  // namespace modgate::canary
