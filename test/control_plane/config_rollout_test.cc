#include "source/control_plane/config_rollout.h"

#include <prometheus/registry.h>

#include <functional>

#include "gtest/gtest.h"
#include "source/common/event/dispatcher_impl.h"

namespace modgate::control_plane {
namespace {

class ConfigRolloutTest : public testing::Test {
 protected:
  ConfigRolloutTest() {
    for (int i = 0; i < 10; ++i) {
      envoy::config::core::v3::Node node;
      node.set_id("pod-" + std::to_string(i));
      nodes_.push_back(&fleet_.connect(node, "127.0.0.1:1", "delta", ""));
    }
  }
  std::unique_ptr<ConfigRollout> Make(const std::string& percent, int hold_seconds = 0) {
    controlplane::v1::ConfigRollout config;
    config.set_canary_percent(static_cast<uint32_t>(std::stoi(percent)));
    config.mutable_hold()->set_seconds(hold_seconds);
    if (hold_seconds == 0) config.mutable_hold()->set_nanos(200 * 1000 * 1000);
    config.mutable_evaluation_interval()->set_nanos(100 * 1000 * 1000);
    EXPECT_TRUE(ConfigRollout::validate(config).ok());
    return std::make_unique<ConfigRollout>(dispatcher_, config, fleet_, [this](bool promoted) {
      done_ = promoted ? "promoted" : "stopped";
      dispatcher_.exit();
    });
  }
  // Starts v2 over v1, published as `generation`: its canary nodes.
  std::vector<Fleet::Node*> StartV2(ConfigRollout& rollout, uint64_t generation) {
    rollout.start("v1");
    rollout.onRepublished(generation, "v2");
    return Canaries(rollout);
  }
  // StartV2 as generation 3, which every canary node then ACKs.
  std::vector<Fleet::Node*> StartV2Acked(ConfigRollout& rollout) {
    std::vector<Fleet::Node*> canaries = StartV2(rollout, 3);
    for (Fleet::Node* node : canaries) fleet_.onSynced(*node, 3);
    return canaries;
  }
  // Runs the loop until the rollout ends (or a generous deadline).
  void Run() {
    auto deadline = dispatcher_.createTimer([this] { dispatcher_.exit(); });
    deadline->enableTimer(std::chrono::seconds(60));
    dispatcher_.run();
  }
  // Runs the loop as Run() does, calling `send` every 20 ms meanwhile
  // (reports before the hold starts are not counted).
  void RunReporting(const std::function<void()>& send) {
    event::TimerPtr report;
    report = dispatcher_.createTimer([&] {
      send();
      report->enableTimer(std::chrono::milliseconds(20));
    });
    report->enableTimer(std::chrono::milliseconds(20));
    Run();
  }
  // A report whose total holds `requests`, `five_xx` of them 5xx.
  static service::fleet::v1::Report Totals(uint64_t requests, uint64_t five_xx) {
    service::fleet::v1::Report report;
    report.mutable_total()->set_requests(requests);
    report.mutable_total()->set_responses_5xx(five_xx);
    report.mutable_total()->add_latency_buckets(requests);
    return report;
  }
  std::vector<Fleet::Node*> Canaries(const ConfigRollout& rollout) {
    std::vector<Fleet::Node*> out;
    for (Fleet::Node* node : nodes_) {
      if (rollout.isCanary(node->id)) out.push_back(node);
    }
    return out;
  }

  event::DispatcherImpl dispatcher_{"test"};
  Fleet fleet_{std::make_shared<prometheus::Registry>()};
  std::vector<Fleet::Node*> nodes_;
  std::string done_;
};

TEST_F(ConfigRolloutTest, CanaryNodesAckThenHoldThenPromote) {
  auto rollout = Make("30");
  EXPECT_FALSE(rollout->isCanary("pod-0"));  // nothing running
  rollout->start("v1");
  rollout->onRepublished(7, "v2");
  const auto canaries = Canaries(*rollout);
  ASSERT_FALSE(canaries.empty());
  EXPECT_LT(canaries.size(), nodes_.size());
  // The same nodes every time (node id hash).
  auto again = Make("30");
  again->start("v1");
  EXPECT_EQ(Canaries(*again), canaries);
  EXPECT_EQ(rollout->status().phase(), "waiting_for_acks");
  for (Fleet::Node* node : canaries) fleet_.onSynced(*node, 7);
  Run();
  EXPECT_EQ(done_, "promoted");
  const admin::v1::ConfigRolloutView status = rollout->status();
  EXPECT_EQ(status.phase(), "promoted");
  EXPECT_EQ(status.version(), "v2");
  EXPECT_EQ(status.previous_version(), "v1");
  EXPECT_EQ(status.canary_nodes_size(), static_cast<int>(canaries.size()));
  EXPECT_EQ(status.canary_nodes_acked(), canaries.size());
  EXPECT_EQ(status.hold().state(), "completed");
}

TEST_F(ConfigRolloutTest, ANackFromACanaryNodeStopsIt) {
  auto rollout = Make("30");
  const auto canaries = StartV2(*rollout, 3);
  ASSERT_FALSE(canaries.empty());
  SessionEvent nack{SessionEvent::Kind::kNack,
                    "type.googleapis.com/modgate.config.v1.Listener",
                    "old",
                    "n1",
                    "listeners[1].address: 127.0.0.1:9 is taken",
                    3};
  fleet_.onEvent(*canaries.front(), nack);
  Run();
  EXPECT_EQ(done_, "stopped");
  EXPECT_EQ(rollout->status().phase(), "stopped");
  EXPECT_NE(rollout->status().reason().find("canary node " + canaries.front()->id +
                                            " NACKed type.googleapis.com/modgate.config.v1."
                                            "Listener: listeners[1].address"),
            std::string::npos)
      << rollout->status().reason();
}

TEST_F(ConfigRolloutTest, AnErrorSpikeInTheCanaryNodesReportsStopsIt) {
  auto rollout = Make("30");
  const auto canaries = StartV2Acked(*rollout);
  // A canary node reports failures (a sidecar without totals).
  RunReporting([&] {
    service::fleet::v1::Report failing;
    auto& route = *failing.add_routes();
    route.set_route("public");
    route.mutable_stable()->set_requests(10);
    route.mutable_stable()->set_responses_5xx(5);
    route.mutable_stable()->add_latency_buckets(10);
    rollout->onReport(canaries.front()->id, failing);
  });
  EXPECT_EQ(done_, "stopped");
  EXPECT_NE(rollout->status().reason().find("gate failed: error_ratio"), std::string::npos)
      << rollout->status().reason();
}

// The common case: the new config changes clusters or routes that have no
// rollout, so the reports carry no per-route stats at all; the canary nodes'
// totals (all their traffic) fail while the others' are fine.
TEST_F(ConfigRolloutTest, CanaryNodesFailingTotalsOnRoutesWithoutRolloutStopIt) {
  auto rollout = Make("30");
  StartV2Acked(*rollout);
  RunReporting([&] {
    for (Fleet::Node* node : nodes_) {
      rollout->onReport(node->id, Totals(10, rollout->isCanary(node->id) ? 10 : 0));
    }
  });
  EXPECT_EQ(done_, "stopped");
  EXPECT_EQ(rollout->status().phase(), "stopped");
  EXPECT_NE(rollout->status().reason().find("gate failed: error_ratio"), std::string::npos)
      << rollout->status().reason();
}

// The same totals on every node: a healthy new config is promoted, and the
// routes' stats, already inside the totals, are not counted twice.
TEST_F(ConfigRolloutTest, HealthyTotalsPromoteAndRouteStatsAreNotCountedTwice) {
  auto rollout = Make("30");
  StartV2Acked(*rollout);
  RunReporting([&] {
    for (Fleet::Node* node : nodes_) {
      // 1 failure in 30 (3.3%, under the default gate's 5%), on the
      // canary side of a route with a rollout: counted again from the
      // route's stats it would be 2 in 31 (6.5%) and stop the rollout.
      service::fleet::v1::Report totals = Totals(30, 1);
      auto& route = *totals.add_routes();
      route.set_route("public");
      route.mutable_canary()->set_requests(1);
      route.mutable_canary()->set_responses_5xx(1);
      rollout->onReport(node->id, totals);
    }
  });
  EXPECT_EQ(done_, "promoted") << rollout->status().reason();
}

TEST_F(ConfigRolloutTest, ASharePickingNoNodeStillHasOneCanary) {
  auto rollout = Make("1");
  rollout->start("v1");
  EXPECT_GE(Canaries(*rollout).size(), 1u);
}

TEST_F(ConfigRolloutTest, AnOperatorAbortStopsIt) {
  auto rollout = Make("30");
  EXPECT_EQ(rollout->control("abort", "").status, 409);  // none runs
  StartV2(*rollout, 3);
  const admin::Admin::Response response = rollout->control("abort", "reason=bad+canary");
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(rollout->status().phase(), "stopped");
  EXPECT_EQ(rollout->status().reason(), "aborted by an operator: bad canary");
  EXPECT_TRUE(Canaries(*rollout).empty());  // back on v1
  Run();
  EXPECT_EQ(done_, "stopped");
  EXPECT_EQ(rollout->control("promote", "").status, 409);  // ended
}

TEST_F(ConfigRolloutTest, AnOperatorAbortWhileHoldingAbortsTheHold) {
  auto rollout = Make("30", /*hold_seconds=*/600);  // only the abort ends it
  StartV2Acked(*rollout);
  event::TimerPtr poll;
  poll = dispatcher_.createTimer([&] {
    if (rollout->status().phase() == "holding") {
      EXPECT_EQ(rollout->control("abort", "").status, 200);
    } else {
      poll->enableTimer(std::chrono::milliseconds(10));
    }
  });
  poll->enableTimer(std::chrono::milliseconds(10));
  Run();
  EXPECT_EQ(done_, "stopped");
  EXPECT_EQ(rollout->status().reason(), "aborted by an operator (control plane admin)");
  EXPECT_EQ(rollout->status().hold().state(), "aborted");
}

TEST_F(ConfigRolloutTest, AnOperatorPromoteEndsItAtOnce) {
  auto rollout = Make("30");
  StartV2(*rollout, 3);
  EXPECT_EQ(rollout->control("promote", "").status, 200);
  EXPECT_EQ(rollout->status().phase(), "promoted");
  EXPECT_EQ(rollout->status().reason(), "promoted by an operator (control plane admin)");
  Run();
  EXPECT_EQ(done_, "promoted");
  EXPECT_EQ(rollout->control("restart", "").status, 404);
}

TEST_F(ConfigRolloutTest, AResumedRolloutWaitsForItsCanaryNodesToComeBack) {
  auto before = Make("30");
  const auto canaries = StartV2(*before, 3);
  ASSERT_FALSE(canaries.empty());
  const controlplane::v1::RunningConfigRollout saved = before->savedState();
  EXPECT_EQ(saved.candidate_version(), "v2");
  EXPECT_EQ(saved.previous_version(), "v1");
  EXPECT_EQ(saved.canary_nodes_size(), static_cast<int>(canaries.size()));
  before.reset();

  // A restarted control plane: no canary node is connected yet.
  for (Fleet::Node* node : canaries) fleet_.disconnect(*node);
  auto rollout = Make("30");
  rollout->resume(saved);
  rollout->onRepublished(9, "v2");
  EXPECT_EQ(rollout->status().phase(), "waiting_for_acks");
  EXPECT_NE(rollout->status().reason().find("resumed after a control plane restart"),
            std::string::npos)
      << rollout->status().reason();
  EXPECT_EQ(rollout->status().previous_version(), "v1");
  // Several evaluations pass: it still waits for the canary nodes.
  auto check = dispatcher_.createTimer([this] { dispatcher_.exit(); });
  check->enableTimer(std::chrono::milliseconds(500));
  dispatcher_.run();
  EXPECT_EQ(rollout->status().phase(), "waiting_for_acks");
  EXPECT_TRUE(done_.empty());
  // They come back and ACK: it holds, then promotes.
  for (Fleet::Node* node : canaries) {
    envoy::config::core::v3::Node again;
    again.set_id(node->id);
    fleet_.onSynced(fleet_.connect(again, "127.0.0.1:1", "delta", ""), 9);
  }
  Run();
  EXPECT_EQ(done_, "promoted");
}

TEST(ConfigRolloutValidateTest, ErrorsNameTheField) {
  controlplane::v1::ConfigRollout config;
  EXPECT_TRUE(ConfigRollout::validate(config).ok());  // off, defaults
  config.set_canary_percent(5);
  EXPECT_TRUE(ConfigRollout::validate(config).ok());  // defaults
  config.set_canary_percent(101);
  EXPECT_EQ(ConfigRollout::validate(config).message(),
            "config_rollout.canary_percent: must be 0..100");
  config.set_canary_percent(5);
  config.mutable_hold()->set_seconds(7200);
  EXPECT_EQ(ConfigRollout::validate(config).message(), "config_rollout.hold: must be 0..1h");
  config.mutable_hold()->set_seconds(30);
  config.add_gates();
  EXPECT_EQ(ConfigRollout::validate(config).message(), "config_rollout.gates[0].metric: required");
}

}  // namespace
}  // namespace modgate::control_plane
