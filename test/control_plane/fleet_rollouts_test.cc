#include "source/control_plane/fleet_rollouts.h"

#include <prometheus/registry.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/config/loader.h"

namespace modgate::control_plane {
namespace {

// The desired config of a fleet rollout: route "public" from stable to
// canary at 50% then 100%, an error-ratio gate over the fleet's reports.
config::v1::Bootstrap Desired(const std::string& min_duration) {
  auto loaded = config::LoadText("desired.yaml", R"(
clusters:
  - name: stable
    endpoints: [{url: "http://127.0.0.1:1"}]
  - name: canary
    endpoints: [{url: "http://127.0.0.1:2"}]
routes:
  - name: public
    weighted_clusters:
      clusters: [{cluster: stable, weight: 1}, {cluster: canary, weight: 0}]
    rollout:
      canary_cluster: canary
      stages: [{weight: 50, min_duration: )" + min_duration +
                                                     R"(}, {weight: 100}]
      gates: [{metric: ERROR_RATIO, max: 0.05, window: 5s, min_requests: 20}]
      evaluation_interval: 0.1s
)");
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return *loaded;
}

// A report from one node: `requests` per side, `canary_5xx` of the
// canary's failing.
service::fleet::v1::Report Report(uint64_t requests, uint64_t canary_5xx) {
  service::fleet::v1::Report report;
  auto& route = *report.add_routes();
  route.set_route("public");
  route.mutable_stable()->set_requests(requests);
  route.mutable_stable()->add_latency_buckets(requests);
  route.mutable_canary()->set_requests(requests);
  route.mutable_canary()->set_responses_5xx(canary_5xx);
  route.mutable_canary()->add_latency_buckets(requests);
  return report;
}

class FleetRolloutsTest : public testing::Test {
 protected:
  // Runs the loop until `done` holds after a transition's publish, or a
  // generous number of publishes went by.
  void RunUntil(const std::function<bool()>& done) {
    done_ = done;
    auto deadline = dispatcher_.createTimer([this] { dispatcher_.exit(); });
    deadline->enableTimer(std::chrono::seconds(60));
    if (!done_()) dispatcher_.run();
    deadline->disableTimer();
  }
  std::string StampedState() {
    config::v1::Bootstrap config = Desired("600s");
    rollouts_.stamp(config);
    const auto& fleet = config.routes(0).rollout().fleet();
    return fleet.state() + " " + std::to_string(fleet.canary_weight());
  }

  event::DispatcherImpl dispatcher_{"test"};
  prometheus::Registry registry_;
  int publishes_ = 0;
  std::function<bool()> done_ = [] { return false; };
  FleetRollouts rollouts_{dispatcher_, registry_, "cp-test", [this] {
                            ++publishes_;
                            if (done_()) dispatcher_.exit();
                          }};
};

TEST_F(FleetRolloutsTest, FailingFleetReportsRollTheRouteBack) {
  rollouts_.update(Desired("600s"));
  EXPECT_EQ(StampedState(), "progressing 50");
  EXPECT_EQ(rollouts_.reportInterval(std::chrono::seconds(10)), std::chrono::milliseconds(100));
  // Two nodes: one healthy, one whose canary fails a third of the time;
  // neither alone has min_requests canary requests, the fleet has.
  rollouts_.onReport("node-a", Report(12, 0));
  rollouts_.onReport("node-b", Report(12, 4));
  RunUntil([this] { return StampedState() == "rolled_back 0"; });
  EXPECT_EQ(StampedState(), "rolled_back 0");
  admin::v1::Rollouts status = rollouts_.status(Fleet(std::make_shared<prometheus::Registry>()));
  ASSERT_EQ(status.rollouts_size(), 1);
  EXPECT_EQ(status.rollouts(0).controlled_by(), "cp-test");
  EXPECT_EQ(status.rollouts(0).fleet().canary().requests(), 24u);
  EXPECT_EQ(status.rollouts(0).fleet().canary().errors(), 4u);
  EXPECT_EQ(status.rollouts(0).fleet().nodes_reporting(), 2u);
  EXPECT_NE(status.rollouts(0).history().rbegin()->reason().find("gate failed: error_ratio"),
            std::string::npos);
}

TEST_F(FleetRolloutsTest, HealthyFleetReachesTheLastStage) {
  rollouts_.update(Desired("0s"));
  rollouts_.onReport("node-a", Report(30, 0));
  RunUntil([this] { return StampedState() == "completed 100"; });
  EXPECT_EQ(StampedState(), "completed 100");
}

TEST_F(FleetRolloutsTest, UnchangedRolloutKeepsItsStateAndAChangedOneStartsOver) {
  rollouts_.update(Desired("600s"));
  auto response = rollouts_.control("advance", "route=public&reason=by+hand");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(StampedState(), "progressing 100");
  rollouts_.update(Desired("600s"));
  EXPECT_EQ(StampedState(), "progressing 100");
  rollouts_.update(Desired("300s"));
  EXPECT_EQ(StampedState(), "progressing 50");
  EXPECT_EQ(rollouts_.control("advance", "route=other").status, 404);
  EXPECT_EQ(rollouts_.control("jump", "route=public").status, 404);
}

// The rollouts' state directory, fresh per test.
std::string StateDir(const std::string& name) {
  const char* base = getenv("TEST_TMPDIR");
  const std::string dir = std::string(base != nullptr ? base : "/tmp") + "/state-" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

// A control plane's FleetRollouts on `state_dir`, as after a restart.
class PersistedFleetRollouts {
 public:
  PersistedFleetRollouts(const std::string& state_dir, const std::string& identifier)
      : rollouts_(dispatcher_, registry_, identifier, nullptr, state_dir) {}
  FleetRollouts& operator*() { return rollouts_; }
  FleetRollouts* operator->() { return &rollouts_; }
  std::string Stamped(const std::string& min_duration = "600s") {
    config::v1::Bootstrap config = Desired(min_duration);
    rollouts_.stamp(config);
    const auto& fleet = config.routes(0).rollout().fleet();
    return fleet.state() + " " + std::to_string(fleet.stage()) + " " +
           std::to_string(fleet.canary_weight());
  }
  admin::v1::Rollout Status() {
    admin::v1::Rollouts status = rollouts_.status(Fleet(std::make_shared<prometheus::Registry>()));
    EXPECT_EQ(status.rollouts_size(), 1);
    return status.rollouts(0);
  }

 private:
  event::DispatcherImpl dispatcher_{"test"};
  prometheus::Registry registry_;
  FleetRollouts rollouts_;
};

TEST(FleetRolloutsStateTest, ARestartedControlPlaneResumesEachRolloutWhereItStood) {
  const std::string dir = StateDir("resume");
  {
    PersistedFleetRollouts first(dir, "cp-1");
    first->update(Desired("600s"));
    EXPECT_EQ(first.Stamped(), "progressing 0 50");
    EXPECT_EQ(first->control("advance", "route=public&reason=by+hand").status, 200);
    EXPECT_EQ(first->control("pause", "route=public").status, 200);
    EXPECT_EQ(first.Stamped(), "paused 1 100");
  }
  {
    PersistedFleetRollouts second(dir, "cp-2");
    second->update(Desired("600s"));
    EXPECT_EQ(second.Stamped(), "paused 1 100");
    const admin::v1::Rollout status = second.Status();
    ASSERT_EQ(status.history_size(), 3);
    EXPECT_EQ(status.history(1).reason(), "by hand");
    EXPECT_EQ(status.persisted().path(), dir + "/rollouts/public.json");
    EXPECT_EQ(status.persisted().restored_from_control_plane(), "cp-1");
    EXPECT_FALSE(status.persisted().restored_from_saved_at().empty());
    EXPECT_EQ(status.persisted().error(), "");
    // A rolled-back (here aborted) rollout stays at 0% across a restart.
    EXPECT_EQ(second->control("abort", "route=public").status, 200);
  }
  {
    PersistedFleetRollouts third(dir, "cp-3");
    third->update(Desired("600s"));
    EXPECT_EQ(third.Stamped(), "aborted 1 0");
    EXPECT_EQ(third.Status().persisted().restored_from_control_plane(), "cp-2");
  }
  {
    // A changed rollout starts over, as it does without a restart.
    PersistedFleetRollouts fourth(dir, "cp-4");
    fourth->update(Desired("300s"));
    EXPECT_EQ(fourth.Stamped("300s"), "progressing 0 50");
    EXPECT_EQ(fourth.Status().persisted().restored_from_control_plane(), "");
  }
}

TEST(FleetRolloutsStateTest, AnUnusableStateFileIsShownAndTheRolloutStartsFromTheConfig) {
  const std::string dir = StateDir("corrupt");
  const std::string path = dir + "/rollouts/public.json";
  std::filesystem::create_directories(dir + "/rollouts");
  std::ofstream(path) << "{\"route\": \"public\", \"stage\": tru";
  PersistedFleetRollouts rollouts(dir, "cp-1");
  rollouts->update(Desired("600s"));
  EXPECT_EQ(rollouts.Stamped(), "progressing 0 50");
  const std::string error = rollouts.Status().persisted().error();
  EXPECT_NE(error.find(path + ": not a fleet rollout state"), std::string::npos) << error;
  EXPECT_NE(error.find("started from the config"), std::string::npos) << error;
  EXPECT_TRUE(std::filesystem::exists(path + ".unreadable"));
  // The fresh state replaced it.
  PersistedFleetRollouts restarted(dir, "cp-2");
  restarted->update(Desired("600s"));
  EXPECT_EQ(restarted.Status().persisted().error(), "");
  EXPECT_EQ(restarted.Status().persisted().restored_from_control_plane(), "cp-1");
}

TEST(FleetRolloutsStateTest, StateOfARolloutNoLongerInTheConfigIsRemoved) {
  const std::string dir = StateDir("stale");
  {
    PersistedFleetRollouts first(dir, "cp-1");
    first->update(Desired("600s"));
    EXPECT_TRUE(std::filesystem::exists(dir + "/rollouts/public.json"));
    first->update(config::v1::Bootstrap());
    EXPECT_FALSE(std::filesystem::exists(dir + "/rollouts/public.json"));
    first->update(Desired("600s"));
  }
  // Removed while no control plane ran.
  PersistedFleetRollouts second(dir, "cp-2");
  second->update(config::v1::Bootstrap());
  EXPECT_FALSE(std::filesystem::exists(dir + "/rollouts/public.json"));
}

}  // namespace
}  // namespace modgate::control_plane
