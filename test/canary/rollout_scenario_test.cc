// The issue's end-to-end scenarios, played on the engine alone: simulated
// clients, a stable and a canary cluster, shadowing with SHA-256 comparison,
// windows, gates and the rollout, all on a fake clock. The server wires the
// same pieces to sockets; here every request and every shadow completes at a
// simulated time, in whichever order their latencies give.
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "source/canary/client_hash.h"
#include "source/canary/rollout.h"
#include "source/canary/shadow_comparator.h"
#include "source/canary/sliding_window.h"
#include "source/canary/traffic_split.h"
#include "source/common/crypto/sha256.h"

namespace modgate::canary {
namespace {

using crypto::Sha256;
using crypto::toHex;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

const MonotonicTime kStart = MonotonicTime() + std::chrono::hours(1000);

// SplitMix64: a reproducible stream for client choice and latencies.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t uniform(uint64_t n) { return next() % n; }

 private:
  uint64_t state_;
};

// What the server's shadow listener does: count every comparison in the
// canary's window (the content gate reads it) and log mismatches.
class WindowShadowListener : public ShadowListener {
 public:
  explicit WindowShadowListener(SlidingWindow& canary) : canary_(canary) {}
  void onComparison(const ShadowComparison& comparison) override {
    canary_.recordShadow(comparison.matched() ? ShadowResult::kMatch : ShadowResult::kMismatch,
                         now);
    if (!comparison.matched()) {
      mismatch_log.push_back(comparison.key.module + "@" + comparison.key.version + " " +
                             comparison.key.artifact + " served " + toHex(comparison.served) +
                             " shadow " + toHex(comparison.shadow));
    }
  }
  MonotonicTime now;
  std::vector<std::string> mismatch_log;

 private:
  SlidingWindow& canary_;
};

struct StageTraffic {
  uint32_t weight = 0;
  uint64_t requests = 0;
  uint64_t canary = 0;
};

class Simulation {
 public:
  static constexpr int kClients = 20000;
  static constexpr int kArtifacts = 200;
  static constexpr int kRequestsPerSecond = 200;
  static constexpr int kShadowPercent = 20;

  explicit Simulation(RolloutSpec spec)
      : stable_(seconds(120)),
        canary_(seconds(120)),
        shadow_listener_(canary_),
        comparator_(ShadowComparatorOptions{}, shadow_listener_),
        rollout_(Rollout::create(std::move(spec), kStart).value()) {
    for (int i = 0; i < kClients; ++i) {
      clients_.push_back(
          clientHash("198.51." + std::to_string(i / 256) + "." + std::to_string(i % 256)));
    }
  }

  // Runs until the rollout stops changing by itself or `limit` passes.
  void run(seconds limit) {
    const milliseconds tick(1000 / kRequestsPerSecond);
    const milliseconds interval = rollout_->spec().evaluation_interval;
    MonotonicTime next_evaluation = kStart + interval;
    for (now_ = kStart; now_ < kStart + limit && !isTerminal(rollout_->state()); now_ += tick) {
      drainEvents();
      if (on_tick) on_tick(*this);
      request();
      if (now_ + tick > next_evaluation) {
        now_ = next_evaluation;
        drainEvents();
        rollout_->evaluate(now_, stable_, canary_);
        next_evaluation += interval;
      }
    }
  }

  Rollout& rollout() { return *rollout_; }
  MonotonicTime now() const { return now_; }
  const std::vector<std::string>& mismatchLog() const { return shadow_listener_.mismatch_log; }
  std::vector<StageTraffic> stages;
  // Requests served by the canary after the rollout stopped at 0%.
  uint64_t canary_after_rollback = 0;
  uint64_t tampered_bodies_served = 0;

  // What the canary does; tests change it mid-run.
  bool canary_fails = false;
  int tampered_artifact = -1;
  std::function<void(Simulation&)> on_tick;

 private:
  struct Event {
    MonotonicTime at;
    uint64_t sequence;
    std::function<void()> run;
    bool operator>(const Event& other) const {
      return at != other.at ? at > other.at : sequence > other.sequence;
    }
  };

  static ArtifactKey keyOf(int artifact) {
    return {"example.com/m" + std::to_string(artifact % 40), "v1.0." + std::to_string(artifact),
            "zip"};
  }
  static std::string goodBody(int artifact) { return "PK zip #" + std::to_string(artifact); }
  std::string canaryBody(int artifact) const {
    return artifact == tampered_artifact ? goodBody(artifact) + " + injected file"
                                         : goodBody(artifact);
  }

  milliseconds latency() { return milliseconds(20 + rng_.uniform(60)); }

  void at(MonotonicTime when, std::function<void()> run) {
    events_.push({when, sequence_++, std::move(run)});
  }

  void drainEvents() {
    while (!events_.empty() && events_.top().at <= now_) {
      Event event = events_.top();
      events_.pop();
      shadow_listener_.now = event.at;
      event.run();
    }
  }

  void request() {
    uint64_t client = clients_[rng_.uniform(kClients)];
    // A fifth of the traffic is one popular artifact, as a widely used
    // module's newest version would be.
    int artifact = rng_.uniform(5) == 0 ? 0 : static_cast<int>(rng_.uniform(kArtifacts));
    uint32_t weight = rollout_->currentCanaryWeight();
    Side side = choose(client, weight, std::nullopt);
    countStage(side);
    milliseconds served_after = latency();
    if (side == Side::kCanary) {
      if (isTerminal(rollout_->state())) ++canary_after_rollback;
      bool fails = canary_fails;
      std::string body = canaryBody(artifact);
      at(now_ + served_after, [this, fails, body, artifact, served_after, at_time = now_] {
        canary_.record(fails ? Outcome::k5xx : Outcome::kSuccess, served_after,
                       at_time + served_after);
        if (!fails && body != goodBody(artifact)) ++tampered_bodies_served;
      });
      return;
    }
    MonotonicTime start = now_;
    at(start + served_after, [this, artifact, served_after, start] {
      stable_.record(Outcome::kSuccess, served_after, start + served_after);
    });
    if (rng_.uniform(100) >= kShadowPercent) return;
    // The served digest is known when the client's body completes; the
    // shadow's when the canary's does: either may come first.
    at(start + served_after, [this, artifact, start, served_after] {
      comparator_.reportServed(keyOf(artifact), Sha256::hash(goodBody(artifact)),
                               start + served_after);
    });
    milliseconds shadow_after = latency();
    bool fails = canary_fails;
    std::string body = canaryBody(artifact);
    at(start + shadow_after, [this, artifact, start, shadow_after, fails, body] {
      MonotonicTime done = start + shadow_after;
      canary_.record(fails ? Outcome::k5xx : Outcome::kSuccess, shadow_after, done);
      if (!fails) comparator_.reportShadow(keyOf(artifact), Sha256::hash(body), done);
    });
  }

  void countStage(Side side) {
    if (isTerminal(rollout_->state())) return;
    uint32_t weight = rollout_->currentCanaryWeight();
    if (stages.empty() || stages.back().weight != weight) stages.push_back({weight});
    ++stages.back().requests;
    if (side == Side::kCanary) ++stages.back().canary;
  }

  SlidingWindow stable_;
  SlidingWindow canary_;
  WindowShadowListener shadow_listener_;
  ShadowComparator comparator_;
  std::unique_ptr<Rollout> rollout_;
  std::vector<uint64_t> clients_;
  Random rng_{42};
  MonotonicTime now_ = kStart;
  uint64_t sequence_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
};

RolloutSpec spec(std::vector<uint32_t> weights) {
  RolloutSpec spec;
  for (uint32_t weight : weights) spec.stages.push_back({weight, seconds(15)});
  spec.gates = {
      GateSpec::relativeToStable(GateKind::kErrorRatio, 1, 0.01, seconds(10), 20),
      GateSpec::absolute(GateKind::kP99Latency, 500, seconds(10), 20),
      GateSpec::absolute(GateKind::kContentMismatch, 0, seconds(30), 10),
  };
  spec.evaluation_interval = seconds(5);
  return spec;
}

TEST(RolloutScenarioTest, HealthyCanaryReachesHundredPercentWithTheSplitAtEveryStage) {
  Simulation sim(spec({1, 5, 10, 50, 100}));
  sim.run(seconds(600));
  EXPECT_EQ(sim.rollout().state(), RolloutState::kCompleted)
      << sim.rollout().history().back().reason;
  EXPECT_TRUE(sim.mismatchLog().empty());
  ASSERT_EQ(sim.stages.size(), 5u);
  for (const StageTraffic& stage : sim.stages) {
    EXPECT_GE(stage.requests, 2000u) << "weight " << stage.weight;
    double share = 100.0 * static_cast<double>(stage.canary) / static_cast<double>(stage.requests);
    EXPECT_NEAR(share, stage.weight, 3.0) << "weight " << stage.weight;
  }
}

TEST(RolloutScenarioTest, CanaryFailingMidwayRollsBackWithinOneEvaluation) {
  Simulation sim(spec({1, 5, 10, 50, 100}));
  std::optional<MonotonicTime> failing_since;
  sim.on_tick = [&](Simulation& s) {
    // Healthy through 1% and 5%; at 10% the canary starts answering 5xx
    // seven seconds into the stage.
    if (!failing_since && s.rollout().currentCanaryWeight() == 10 &&
        s.now() - s.rollout().stageEnteredAt() >= seconds(7)) {
      s.canary_fails = true;
      failing_since = s.now();
    }
  };
  sim.run(seconds(600));
  ASSERT_TRUE(failing_since.has_value());
  ASSERT_EQ(sim.rollout().state(), RolloutState::kRolledBack);
  EXPECT_EQ(sim.rollout().currentCanaryWeight(), 0u);
  const HistoryEntry& rollback = sim.rollout().history().back();
  EXPECT_EQ(rollback.from_weight, 10u);
  EXPECT_LE(rollback.time - *failing_since, sim.rollout().spec().evaluation_interval);
  EXPECT_NE(rollback.reason.find("error_ratio"), std::string::npos) << rollback.reason;
  EXPECT_EQ(sim.canary_after_rollback, 0u);
}

TEST(RolloutScenarioTest, TamperedZipHaltsTheRolloutBeforeAnyClientGetsIt) {
  // Stage 0 shadows without sending clients to the canary.
  Simulation sim(spec({0, 1, 5, 10, 50, 100}));
  sim.tampered_artifact = 0;
  sim.run(seconds(600));
  ASSERT_EQ(sim.rollout().state(), RolloutState::kRolledBack);
  const HistoryEntry& rollback = sim.rollout().history().back();
  EXPECT_EQ(rollback.from_weight, 0u);
  EXPECT_NE(rollback.reason.find("content_mismatch"), std::string::npos) << rollback.reason;
  EXPECT_EQ(sim.tampered_bodies_served, 0u);
  ASSERT_FALSE(sim.mismatchLog().empty());
  EXPECT_EQ(sim.mismatchLog()[0].rfind("example.com/m0@v1.0.0 zip served ", 0), 0u)
      << sim.mismatchLog()[0];
  for (const HistoryEntry& entry : sim.rollout().history()) EXPECT_EQ(entry.to_weight, 0u);
}

}  // namespace
}  // namespace modgate::canary
