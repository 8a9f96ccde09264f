#include "source/upstream/health/health_checker.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "source/common/event/dispatcher_impl.h"
#include "test/upstream/health/health_test_server.h"
#include "test/upstream/test_support.h"

namespace modgate::upstream {
namespace {

using std::chrono::milliseconds;
using testing::HealthTestServer;
using testing::runFor;
using testing::runUntil;

struct Change {
  std::string host;
  bool healthy;
  int server_requests;  // requests the server had seen for the path then
};

class Recorder : public HealthCheckerCallbacks {
 public:
  void onHostHealthChanged(const HostSharedPtr& host, bool healthy) override {
    changes.push_back({host->name, healthy, requests ? requests() : 0});
    if (on_change) on_change();
  }
  void onInitialProbesDone() override { ++initial_done; }

  int count(bool healthy) const {
    return static_cast<int>(std::count_if(changes.begin(), changes.end(),
                                          [&](const Change& c) { return c.healthy == healthy; }));
  }

  std::vector<Change> changes;
  int initial_done = 0;
  std::function<int()> requests;
  std::function<void()> on_change;
};

class HealthCheckerTest : public ::testing::Test {
 protected:
  HealthCheckerTest()
      : dispatcher_("main"), client_(createHttpClient(dispatcher_, ClientSettings{})) {
    options_.path = "/health";
    options_.interval = milliseconds(50);
    options_.timeout = milliseconds(1000);
    options_.unhealthy_threshold = 3;
    options_.healthy_threshold = 2;
    recorder_.requests = [this] { return server_.requests("/health"); };
  }

  Url url(uint16_t port) { return *Url::parse("http://127.0.0.1:" + std::to_string(port)); }

  HostSharedPtr addHost(const std::string& name, uint16_t port, std::string path = "") {
    auto host = std::make_shared<Host>(name);
    checker_->addHost({host, url(port), std::move(path)});
    return host;
  }

  void create() {
    checker_ = createHealthChecker(
        dispatcher_, options_, [this](const Host&) -> HttpClient& { return *client_; }, recorder_,
        HealthCheckerDeps{nullptr, 1234});
  }

  const HostHealthStatus status(const HostSharedPtr& host) {
    for (const HostHealthStatus& s : checker_->hostStatuses()) {
      if (s.host == host) return s;
    }
    ADD_FAILURE() << "no status for " << host->name;
    return {};
  }

  event::DispatcherImpl dispatcher_;
  std::unique_ptr<HttpClient> client_;
  HealthTestServer server_;
  HealthCheckOptions options_;
  Recorder recorder_;
  std::unique_ptr<HealthChecker> checker_;
};

TEST_F(HealthCheckerTest, FirstPassLetsAHostInThenThresholdsApply) {
  create();
  HostSharedPtr host = addHost("a", server_.port());
  EXPECT_FALSE(checker_->healthy(*host));
  EXPECT_TRUE(status(host).pending_first_probe);
  checker_->start();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder_.changes.size() == 1; }));
  // One passed probe suffices for a host that never passed.
  EXPECT_EQ(server_.requests("/health"), 1);
  EXPECT_TRUE(recorder_.changes[0].healthy);
  EXPECT_TRUE(checker_->healthy(*host));
  EXPECT_EQ(recorder_.initial_done, 1);
  EXPECT_FALSE(status(host).pending_first_probe);

  // No probe is in flight while the loop is not running: the flip lands
  // between two probes.
  server_.setStatus("/health", 500);
  int before = server_.requests("/health");
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder_.changes.size() == 2; }));
  EXPECT_FALSE(recorder_.changes[1].healthy);
  // Exactly unhealthy_threshold failed probes, not one fewer.
  EXPECT_EQ(recorder_.changes[1].server_requests - before, 3);
  EXPECT_FALSE(checker_->healthy(*host));
  HostHealthStatus s = status(host);
  EXPECT_EQ(s.consecutive_failures, 3u);
  EXPECT_EQ(s.consecutive_successes, 0u);
  EXPECT_EQ(s.last_status, 500u);
  EXPECT_EQ(s.last_failure, "status 500");
  EXPECT_EQ(s.probes_failed, 3u);
  EXPECT_EQ(s.probes_total, 4u);
  ASSERT_TRUE(s.last_probe_time.has_value());

  server_.setStatus("/health", 200);
  before = server_.requests("/health");
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder_.changes.size() == 3; }));
  EXPECT_TRUE(recorder_.changes[2].healthy);
  EXPECT_EQ(recorder_.changes[2].server_requests - before, 2);
  EXPECT_TRUE(checker_->healthy(*host));
  EXPECT_EQ(status(host).last_failure, "");
  EXPECT_EQ(recorder_.initial_done, 1);
}

TEST_F(HealthCheckerTest, AFailureInTheStreakResetsIt) {
  options_.hosts_start_healthy = true;
  create();
  HostSharedPtr host = addHost("a", server_.port());
  checker_->start();
  server_.setStatus("/health", 500);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_.requests("/health") == 2; }));
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return status(host).probes_total == 2; }));
  server_.setStatus("/health", 200);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return status(host).probes_total == 3; }));
  server_.setStatus("/health", 500);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return status(host).probes_total == 5; }));
  EXPECT_TRUE(checker_->healthy(*host));
  EXPECT_EQ(status(host).consecutive_failures, 2u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return status(host).probes_total == 6; }));
  EXPECT_FALSE(checker_->healthy(*host));
  ASSERT_EQ(recorder_.changes.size(), 1u);
  EXPECT_EQ(recorder_.changes[0].server_requests, 6);
}

TEST_F(HealthCheckerTest, StartHealthyStaysHealthyBelowThreshold) {
  options_.hosts_start_healthy = true;
  create();
  HostSharedPtr host = addHost("a", server_.port());
  server_.setStatus("/health", 503);
  EXPECT_TRUE(checker_->healthy(*host));
  checker_->start();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return status(host).probes_total == 1; }));
  EXPECT_TRUE(checker_->healthy(*host));
  EXPECT_EQ(recorder_.initial_done, 1);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return !recorder_.changes.empty(); }));
  EXPECT_EQ(recorder_.changes[0].server_requests, 3);
}

TEST_F(HealthCheckerTest, TimeoutFails) {
  options_.hosts_start_healthy = true;
  options_.timeout = milliseconds(100);
  options_.unhealthy_threshold = 2;
  server_.setDelay("/health", milliseconds(400));
  create();
  HostSharedPtr host = addHost("a", server_.port());
  auto started = std::chrono::steady_clock::now();
  checker_->start();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return status(host).probes_total == 1; }));
  auto first = std::chrono::steady_clock::now() - started;
  EXPECT_GE(first, milliseconds(100 - 15));
  // It did not wait for the answer (which comes at 400 ms, a 200): the probe
  // failed as a timeout with no status. No wall-time upper bound: a loaded
  // machine may run the loop late.
  EXPECT_EQ(status(host).last_failure, "timeout");
  EXPECT_EQ(status(host).last_status, 0u);
  EXPECT_TRUE(checker_->healthy(*host));
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return !recorder_.changes.empty(); }));
  EXPECT_FALSE(recorder_.changes[0].healthy);
  EXPECT_EQ(recorder_.changes[0].server_requests, 2);
}

TEST_F(HealthCheckerTest, ConnectRefusedFails) {
  options_.hosts_start_healthy = true;
  options_.unhealthy_threshold = 2;
  create();
  HostSharedPtr host = addHost("dead", testing::refusedPort());
  checker_->start();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return !recorder_.changes.empty(); }));
  EXPECT_FALSE(recorder_.changes[0].healthy);
  HostHealthStatus s = status(host);
  EXPECT_EQ(s.probes_total, 2u);
  EXPECT_EQ(s.last_failure, "connect_failure");
}

TEST_F(HealthCheckerTest, ExpectedStatusRanges) {
  options_.expected_statuses = {{200, 300}, {418, 0}};
  options_.healthy_threshold = 1;
  options_.unhealthy_threshold = 1;
  create();
  HostSharedPtr host = addHost("a", server_.port());
  server_.setStatus("/health", 204);
  checker_->start();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder_.changes.size() == 1; }));
  EXPECT_TRUE(recorder_.changes[0].healthy);
  server_.setStatus("/health", 418);
  int before = server_.requests("/health");
  runFor(dispatcher_, milliseconds(200));
  EXPECT_GT(server_.requests("/health"), before);
  EXPECT_EQ(recorder_.changes.size(), 1u);
  server_.setStatus("/health", 300);  // end of [200, 300) is excluded
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder_.changes.size() == 2; }));
  EXPECT_FALSE(recorder_.changes[1].healthy);
  EXPECT_EQ(status(host).last_failure, "status 300");
  server_.setStatus("/health", 200);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder_.changes.size() == 3; }));
  EXPECT_TRUE(recorder_.changes[2].healthy);
}

TEST_F(HealthCheckerTest, IntervalJitterStaysWithinBounds) {
  options_.interval = milliseconds(40);
  options_.interval_jitter = milliseconds(40);
  options_.initial_jitter = milliseconds(30);
  create();
  addHost("a", server_.port());
  auto started = std::chrono::steady_clock::now();
  checker_->start();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_.requests("/health") >= 12; }));
  auto times = server_.requestTimes("/health");
  EXPECT_GE(times[0], started);
  milliseconds low(1000), high(0);
  for (size_t i = 1; i < times.size(); ++i) {
    auto gap = std::chrono::duration_cast<milliseconds>(times[i] - times[i - 1]);
    low = std::min(low, gap);
    high = std::max(high, gap);
  }
  // Gap = delay in [40, 80) plus a loopback round trip; slack below for
  // libevent's cached loop time (timers may fire a few ms early). The upper
  // bounds of the delays are nextProbeDelay's and initialProbeDelay's
  // (health_check_interval_test); here, where a loaded machine runs the loop
  // late, only that the checker never probes sooner than its interval and
  // that the gaps vary (jitter is applied: 11 draws from [0, 40) spread over
  // less than 10 ms about once in 10^5 runs).
  EXPECT_GE(low, milliseconds(40 - 10));
  EXPECT_GT(high - low, milliseconds(10));
}

TEST_F(HealthCheckerTest, UnhealthyIntervalSlowsProbes) {
  options_.unhealthy_threshold = 1;
  options_.unhealthy_interval = milliseconds(300);
  options_.hosts_start_healthy = true;
  server_.setStatus("/health", 500);
  create();
  addHost("a", server_.port());
  checker_->start();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_.requests("/health") >= 3; }));
  auto times = server_.requestTimes("/health");
  // libevent arms timers from the loop's cached time, so one may fire a few
  // ms early under a slow (sanitized) build.
  EXPECT_GE(times[2] - times[1], milliseconds(300 - 15));
}

TEST_F(HealthCheckerTest, StopStopsTrafficAndStartResumes) {
  create();
  HostSharedPtr host = addHost("a", server_.port());
  checker_->start();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_.requests("/health") >= 3; }));
  checker_->stop();
  int stopped_at = server_.requests("/health");
  runFor(dispatcher_, milliseconds(300));
  EXPECT_EQ(server_.requests("/health"), stopped_at);
  EXPECT_TRUE(checker_->healthy(*host));  // state survives stop()
  checker_->start();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_.requests("/health") > stopped_at; }));
  EXPECT_EQ(recorder_.initial_done, 2);
}

TEST_F(HealthCheckerTest, StopCancelsAProbeInFlight) {
  server_.setDelay("/health", milliseconds(200));
  create();
  HostSharedPtr host = addHost("a", server_.port());
  checker_->start();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_.requests("/health") == 1; }));
  checker_->stop();
  runFor(dispatcher_, milliseconds(400));
  EXPECT_EQ(server_.requests("/health"), 1);
  EXPECT_TRUE(recorder_.changes.empty());
  EXPECT_EQ(status(host).probes_total, 0u);
  EXPECT_EQ(recorder_.initial_done, 0);
}

TEST_F(HealthCheckerTest, DestroyWithProbesInFlightAndFromACallback) {
  server_.setDelay("/slow", milliseconds(200));
  create();
  addHost("slow", server_.port(), "/slow");
  addHost("a", server_.port());
  recorder_.on_change = [this] { checker_.reset(); };
  checker_->start();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return checker_ == nullptr; }));
  EXPECT_EQ(recorder_.changes.size(), 1u);
  runFor(dispatcher_, milliseconds(400));
  EXPECT_EQ(recorder_.changes.size(), 1u);
  EXPECT_EQ(server_.requests("/health"), 1);
}

TEST_F(HealthCheckerTest, InitialProbesDoneOnceEveryHostHadOne) {
  create();
  HostSharedPtr good = addHost("good", server_.port());
  HostSharedPtr dead = addHost("dead", testing::refusedPort());
  checker_->start();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder_.initial_done == 1; }));
  EXPECT_FALSE(status(dead).pending_first_probe);
  EXPECT_FALSE(status(good).pending_first_probe);
  EXPECT_TRUE(checker_->healthy(*good));
  EXPECT_FALSE(checker_->healthy(*dead));  // never passed: still out
  ASSERT_EQ(recorder_.changes.size(), 1u);
  EXPECT_EQ(recorder_.changes[0].host, "good");
  runFor(dispatcher_, milliseconds(200));
  EXPECT_EQ(recorder_.initial_done, 1);
}

TEST_F(HealthCheckerTest, NoHostsIsInitializedAtOnce) {
  create();
  checker_->start();
  EXPECT_EQ(recorder_.initial_done, 1);
}

TEST_F(HealthCheckerTest, RemovingTheLastPendingHostFinishesInitialization) {
  server_.setDelay("/health", milliseconds(200));
  create();
  HostSharedPtr host = addHost("a", server_.port());
  checker_->start();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_.requests("/health") == 1; }));
  checker_->removeHost(host);
  EXPECT_EQ(recorder_.initial_done, 1);
  EXPECT_FALSE(checker_->healthy(*host));
  EXPECT_TRUE(checker_->hostStatuses().empty());
  runFor(dispatcher_, milliseconds(400));
  EXPECT_TRUE(recorder_.changes.empty());
}

TEST_F(HealthCheckerTest, HostAddedWhileRunningIsProbed) {
  create();
  checker_->start();
  HostSharedPtr host = addHost("late", server_.port(), "/late");
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return checker_->healthy(*host); }));
  EXPECT_EQ(server_.requests("/late"), 1);
  EXPECT_EQ(server_.requests("/health"), 0);
}

TEST_F(HealthCheckerTest, HostHeaderIsTheUrlAuthorityAndPrefixApplies) {
  create();
  auto host = std::make_shared<Host>("a");
  checker_->addHost(
      {host, *Url::parse("http://127.0.0.1:" + std::to_string(server_.port()) + "/go"), ""});
  checker_->start();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return checker_->healthy(*host); }));
  EXPECT_EQ(server_.requests("/go/health"), 1);
  EXPECT_EQ(server_.lastHost("/go/health"), "127.0.0.1:" + std::to_string(server_.port()));
}

TEST_F(HealthCheckerTest, HostOptionSetsTheHostHeader) {
  options_.host = "health.example.internal:8080";
  create();
  HostSharedPtr host = addHost("a", server_.port());
  checker_->start();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return checker_->healthy(*host); }));
  EXPECT_EQ(server_.lastHost("/health"), "health.example.internal:8080");
}

}  // namespace
}  // namespace modgate::upstream
