#include "source/control_plane/rollout_state_file.h"

#include <fstream>

#include "gtest/gtest.h"

namespace modgate::control_plane {
namespace {

canary::RolloutSpec Spec() {
  canary::RolloutSpec spec;
  spec.stages.push_back({10, std::chrono::seconds(60)});
  spec.stages.push_back({50, std::chrono::seconds(60)});
  spec.stages.push_back({100, std::chrono::seconds(0)});
  spec.evaluation_interval = std::chrono::seconds(1);
  return spec;
}

std::string TempDir(const std::string& name) {
  const char* base = getenv("TEST_TMPDIR");
  return std::string(base != nullptr ? base : "/tmp") + "/" + name;
}

TEST(RolloutStateFileTest, RoundTripKeepsStateStageAndHistoryAcrossClocks) {
  const canary::MonotonicTime start = std::chrono::steady_clock::now();
  auto rollout = canary::Rollout::create(Spec(), start);
  ASSERT_TRUE(rollout.ok());
  ASSERT_TRUE((*rollout)->advance(start + std::chrono::seconds(5), "by hand"));
  ASSERT_TRUE((*rollout)->abort(start + std::chrono::seconds(7), "stop it"));
  // Saved at wall time W (= monotonic start + 10 s).
  const canary::SystemTime wall_saved{std::chrono::milliseconds(1'800'000'000'000)};
  const auto saved = RolloutStateOf("public", "abc123", **rollout, start + std::chrono::seconds(10),
                                    wall_saved, "cp-1");
  EXPECT_EQ(saved.state(), "aborted");
  EXPECT_EQ(saved.stage(), 1u);
  EXPECT_EQ(saved.canary_weight(), 0u);
  ASSERT_EQ(saved.history_size(), 3);
  EXPECT_EQ(saved.history(1).at_ms(), 1'800'000'000'000 - 5'000);
  EXPECT_EQ(saved.history(2).reason(), "stop it");

  const std::string path = RolloutStatePath(TempDir("roundtrip"), "public");
  ASSERT_TRUE(SaveRolloutState(path, saved).ok());
  auto loaded = LoadRolloutState(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->SerializeAsString(), saved.SerializeAsString());
  EXPECT_EQ(RolloutStateRoutes(TempDir("roundtrip")), std::vector<std::string>{"public"});

  // Another process, another monotonic clock, one minute of wall time later.
  const canary::MonotonicTime later = start + std::chrono::hours(5);
  const canary::SystemTime wall_later = wall_saved + std::chrono::minutes(1);
  auto restored = RestoreRollout(**loaded, Spec(), later, wall_later, nullptr);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ((*restored)->state(), canary::RolloutState::kAborted);
  EXPECT_EQ((*restored)->stageIndex(), 1u);
  EXPECT_EQ((*restored)->currentCanaryWeight(), 0u);
  ASSERT_EQ((*restored)->history().size(), 3u);
  EXPECT_EQ((*restored)->history()[1].to_weight, 50u);
  EXPECT_EQ(later - (*restored)->history()[1].time, std::chrono::milliseconds(60'000 + 5'000));
  EXPECT_EQ(later - (*restored)->stageEnteredAt(), std::chrono::milliseconds(60'000 + 5'000));
  // Terminal until restarted, as before the restart.
  EXPECT_TRUE((*restored)->restart(later, "again"));
  EXPECT_EQ((*restored)->currentCanaryWeight(), 10u);
}

TEST(RolloutStateFileTest, MissingCorruptAndMisfittingFilesAreErrorsNotCrashes) {
  const std::string dir = TempDir("corrupt");
  const std::string path = RolloutStatePath(dir, "public");
  auto missing = LoadRolloutState(path);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  EXPECT_TRUE(RolloutStateRoutes(dir).empty());

  controlplane::v1::FleetRolloutState state;
  state.set_state("progressing");
  ASSERT_TRUE(SaveRolloutState(path, state).ok());
  std::ofstream(path, std::ios::trunc) << "{\"route\": \"public\", \"stage\": ";  // torn
  auto torn = LoadRolloutState(path);
  ASSERT_FALSE(torn.ok());
  EXPECT_NE(torn.status().message().find(path), std::string::npos) << torn.status();
  std::ofstream(path, std::ios::trunc) << "{\"no_such_field\": 1}";
  EXPECT_FALSE(LoadRolloutState(path).ok());

  const auto now = std::chrono::steady_clock::now();
  const auto wall = std::chrono::system_clock::now();
  state.set_state("sideways");
  auto unknown = RestoreRollout(state, Spec(), now, wall, nullptr);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "state: unknown state \"sideways\"");
  state.set_state("paused");
  state.set_stage(3);
  auto out_of_range = RestoreRollout(state, Spec(), now, wall, nullptr);
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_EQ(out_of_range.status().message(), "stage: stage 3 out of range: 3 stages");
  state.set_stage(2);
  state.add_history()->set_to_state("later");
  auto bad_history = RestoreRollout(state, Spec(), now, wall, nullptr);
  ASSERT_FALSE(bad_history.ok());
  EXPECT_EQ(bad_history.status().message(), "history[0].from_state: unknown state \"\"");
}

TEST(RolloutStateFileTest, RouteNamesAreEscapedIntoFileNames) {
  const std::string dir = TempDir("names");
  EXPECT_EQ(RolloutStatePath(dir, "a/b c"), dir + "/rollouts/a%2Fb%20c.json");
  EXPECT_EQ(RolloutStatePath(dir, ".hidden"), dir + "/rollouts/%2Ehidden.json");
  controlplane::v1::FleetRolloutState state;
  ASSERT_TRUE(SaveRolloutState(RolloutStatePath(dir, "a/b c"), state).ok());
  EXPECT_EQ(RolloutStateRoutes(dir), std::vector<std::string>{"a/b c"});
}

}  // namespace
}  // namespace modgate::control_plane
