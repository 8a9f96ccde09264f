#include "source/upstream/health/outlier_detector.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "source/common/event/dispatcher_impl.h"
#include "test/upstream/test_support.h"

namespace modgate::upstream {
namespace {

using std::chrono::milliseconds;
using testing::runFor;
using testing::runUntil;

// Forwards to the real main dispatcher, counting posts.
class CountingDispatcher : public event::Dispatcher {
 public:
  explicit CountingDispatcher(event::Dispatcher& inner) : inner_(inner) {}
  const std::string& name() const override { return inner_.name(); }
  event_base& base() override { return inner_.base(); }
  event::TimerPtr createTimer(event::TimerCb cb) override {
    return inner_.createTimer(std::move(cb));
  }
  void deferredDelete(event::DeferredDeletablePtr object) override {
    inner_.deferredDelete(std::move(object));
  }
  void post(std::function<void()> cb) override {
    ++posts;
    inner_.post(std::move(cb));
  }
  void run() override { inner_.run(); }
  void exit() override { inner_.exit(); }
  bool isThreadSafe() const override { return inner_.isThreadSafe(); }
  event::MonotonicTime now() override { return inner_.now(); }

  std::atomic<int> posts{0};

 private:
  event::Dispatcher& inner_;
};

struct Event {
  std::string host;
  bool ejected;
  event::MonotonicTime time;
};

class Recorder : public OutlierDetectorCallbacks {
 public:
  void onHostEjectionChanged(const HostSharedPtr& host, bool ejected) override {
    events.push_back({host->name, ejected, std::chrono::steady_clock::now()});
    if (on_event) on_event(host, ejected);
  }
  std::vector<Event> events;
  std::function<void(const HostSharedPtr&, bool)> on_event;
};

class OutlierDetectorTest : public ::testing::Test {
 protected:
  OutlierDetectorTest() : main_("main"), counting_(main_) {
    options_.interval = milliseconds(20);
    // Ejected hosts stay out for the whole test unless a test shortens
    // this to see them return: a loaded machine may run a short settle()
    // long past 100 ms.
    options_.base_ejection_time = milliseconds(60000);
  }

  void create() { detector_ = createOutlierDetector(counting_, options_, recorder_, 99); }

  HostSharedPtr host(const std::string& name) {
    hosts_.push_back(std::make_shared<Host>(name));
    detector_->addHost(hosts_.back());
    return hosts_.back();
  }

  void put(const HostSharedPtr& h, OutlierResult result, int times = 1) {
    OutlierMonitorSharedPtr monitor = detector_->monitor(*h);
    for (int i = 0; i < times; ++i) monitor->putResult(result);
  }

  OutlierHostStats statsOf(const HostSharedPtr& h) {
    for (const OutlierHostStats& s : detector_->hostStats()) {
      if (s.host == h) return s;
    }
    ADD_FAILURE() << "no stats for " << h->name;
    return {};
  }

  // Lets queued posts run.
  void settle() { runFor(main_, milliseconds(5)); }

  event::DispatcherImpl main_;
  CountingDispatcher counting_;
  OutlierDetectionOptions options_;
  Recorder recorder_;
  std::vector<HostSharedPtr> hosts_;
  std::unique_ptr<OutlierDetector> detector_;
};

// Runs `fn(thread_index)` on `n` threads released together.
void onThreads(int n, const std::function<void(int)>& fn) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (!go.load()) std::this_thread::yield();
      fn(i);
    });
  }
  while (ready.load() < n) std::this_thread::yield();
  go = true;
  for (auto& thread : threads) thread.join();
}

TEST(OutlierResultTest, StatusMapping) {
  EXPECT_EQ(outlierResultForStatus(200), OutlierResult::kSuccess);
  EXPECT_EQ(outlierResultForStatus(404), OutlierResult::kSuccess);
  EXPECT_EQ(outlierResultForStatus(499), OutlierResult::kSuccess);
  EXPECT_EQ(outlierResultForStatus(500), OutlierResult::k5xx);
  EXPECT_EQ(outlierResultForStatus(501), OutlierResult::k5xx);
  EXPECT_EQ(outlierResultForStatus(502), OutlierResult::kGatewayFailure);
  EXPECT_EQ(outlierResultForStatus(503), OutlierResult::kGatewayFailure);
  EXPECT_EQ(outlierResultForStatus(504), OutlierResult::kGatewayFailure);
  EXPECT_EQ(outlierResultForStatus(505), OutlierResult::k5xx);
  EXPECT_EQ(outlierResultForStatus(599), OutlierResult::k5xx);
}

TEST(OutlierResultTest, FailureMapping) {
  EXPECT_EQ(outlierResultForFailure(FailureReason::kConnectFailure),
            OutlierResult::kConnectFailure);
  EXPECT_EQ(outlierResultForFailure(FailureReason::kTlsFailure), OutlierResult::kConnectFailure);
  EXPECT_EQ(outlierResultForFailure(FailureReason::kDnsFailure), OutlierResult::kConnectFailure);
  EXPECT_EQ(outlierResultForFailure(FailureReason::kReset), OutlierResult::kReset);
  EXPECT_EQ(outlierResultForFailure(FailureReason::kProtocolError), OutlierResult::kReset);
  EXPECT_EQ(outlierResultForFailure(FailureReason::kOverflow), OutlierResult::kReset);
  EXPECT_EQ(outlierResultForFailure(FailureReason::kTimeout), OutlierResult::kTimeout);
  EXPECT_EQ(outlierResultForFailure(FailureReason::kTooManyRedirects), std::nullopt);
}

TEST_F(OutlierDetectorTest, FailuresFromManyThreadsShareOneCounter) {
  create();
  HostSharedPtr a = host("a");
  OutlierMonitorSharedPtr monitor = detector_->monitor(*a);
  onThreads(4, [&](int) { monitor->putResult(OutlierResult::k5xx); });
  EXPECT_EQ(statsOf(a).consecutive_5xx, 4u);
  EXPECT_EQ(counting_.posts.load(), 0);
  settle();
  EXPECT_TRUE(recorder_.events.empty());
  monitor->putResult(OutlierResult::k5xx);
  EXPECT_EQ(counting_.posts.load(), 1);
  EXPECT_FALSE(detector_->ejected(*a));  // decided on the main dispatcher
  settle();
  ASSERT_EQ(recorder_.events.size(), 1u);
  EXPECT_TRUE(recorder_.events[0].ejected);
  EXPECT_TRUE(detector_->ejected(*a));
  EXPECT_EQ(detector_->stats().ejections_enforced_consecutive_5xx, 1u);
  EXPECT_EQ(detector_->stats().ejections_active, 1u);
}

TEST_F(OutlierDetectorTest, InterleavedBurstEjectsExactlyOnceWithOnePost) {
  options_.interval = milliseconds(10000);
  create();
  HostSharedPtr a = host("a");
  OutlierMonitorSharedPtr monitor = detector_->monitor(*a);
  // The main dispatcher is not running: every detection piles onto the one
  // pending task.
  onThreads(4, [&](int) {
    for (int i = 0; i < 500; ++i) monitor->putResult(OutlierResult::k5xx);
  });
  EXPECT_EQ(counting_.posts.load(), 1);
  runFor(main_, milliseconds(50));
  ASSERT_EQ(recorder_.events.size(), 1u);
  EXPECT_EQ(detector_->stats().ejections_enforced_total, 1u);
  EXPECT_EQ(statsOf(a).times_ejected, 1u);
  // Reports while ejected (requests already in flight) change nothing.
  onThreads(4, [&](int) {
    for (int i = 0; i < 20; ++i) monitor->putResult(OutlierResult::k5xx);
  });
  runFor(main_, milliseconds(50));
  EXPECT_EQ(recorder_.events.size(), 1u);
  EXPECT_EQ(detector_->stats().ejections_detected_consecutive_5xx, 1u);
}

TEST_F(OutlierDetectorTest, ASuccessResetsTheStreak) {
  create();
  HostSharedPtr a = host("a");
  put(a, OutlierResult::k5xx, 4);
  put(a, OutlierResult::kSuccess);
  EXPECT_EQ(statsOf(a).consecutive_5xx, 0u);
  put(a, OutlierResult::k5xx, 4);
  settle();
  EXPECT_TRUE(recorder_.events.empty());
  EXPECT_EQ(counting_.posts.load(), 0);
  put(a, OutlierResult::k5xx);
  settle();
  ASSERT_EQ(recorder_.events.size(), 1u);
  EXPECT_TRUE(detector_->ejected(*a));
}

TEST_F(OutlierDetectorTest, MaxEjectionPercentHalfOfTwo) {
  options_.interval = milliseconds(10000);
  options_.max_ejection_percent = 50;
  create();
  HostSharedPtr a = host("a");
  HostSharedPtr b = host("b");
  put(a, OutlierResult::k5xx, 5);
  settle();
  EXPECT_TRUE(detector_->ejected(*a));
  put(b, OutlierResult::k5xx, 5);
  settle();
  EXPECT_FALSE(detector_->ejected(*b));
  EXPECT_EQ(recorder_.events.size(), 1u);
  OutlierClusterStats stats = detector_->stats();
  EXPECT_EQ(stats.ejections_overflow, 1u);
  EXPECT_EQ(stats.ejections_active, 1u);
  EXPECT_EQ(stats.ejections_detected_consecutive_5xx, 2u);
  EXPECT_EQ(stats.ejections_enforced_consecutive_5xx, 1u);
  // The counter restarts: another full streak is another detection.
  EXPECT_EQ(statsOf(b).consecutive_5xx, 0u);
  put(b, OutlierResult::k5xx, 5);
  settle();
  EXPECT_EQ(detector_->stats().ejections_overflow, 2u);
}

TEST_F(OutlierDetectorTest, MaxEjectionPercentCountsTheShareAfterEjecting) {
  options_.interval = milliseconds(10000);
  options_.max_ejection_percent = 50;
  create();
  HostSharedPtr a = host("a"), b = host("b"), c = host("c"), d = host("d");
  put(a, OutlierResult::k5xx, 5);
  put(b, OutlierResult::k5xx, 5);  // 2 of 4 = 50%: allowed
  put(c, OutlierResult::k5xx, 5);  // 3 of 4 = 75%: refused
  settle();
  EXPECT_EQ(detector_->stats().ejections_active, 2u);
  EXPECT_EQ(detector_->stats().ejections_overflow, 1u);
  EXPECT_FALSE(detector_->ejected(*c));
}

TEST_F(OutlierDetectorTest, OneHostCanAlwaysBeEjected) {
  options_.interval = milliseconds(10000);
  options_.max_ejection_percent = 0;
  create();
  HostSharedPtr a = host("a"), b = host("b");
  put(a, OutlierResult::k5xx, 5);
  put(b, OutlierResult::k5xx, 5);
  settle();
  EXPECT_EQ(detector_->stats().ejections_active, 1u);
  EXPECT_EQ(detector_->stats().ejections_overflow, 1u);
}

TEST_F(OutlierDetectorTest, EjectionTimeGrowsAndIsCapped) {
  options_.base_ejection_time = milliseconds(100);
  options_.max_ejection_time = milliseconds(250);
  create();
  HostSharedPtr a = host("a");
  std::vector<uint32_t> multipliers;
  // Fail again right after each return, before the next sweep could age
  // the multiplier.
  recorder_.on_event = [&](const HostSharedPtr& h, bool ejected) {
    if (ejected) {
      multipliers.push_back(statsOf(h).ejection_multiplier);
    } else if (recorder_.events.size() < 8) {
      put(h, OutlierResult::k5xx, 5);
    }
  };
  put(a, OutlierResult::k5xx, 5);
  ASSERT_TRUE(runUntil(main_, [&] { return recorder_.events.size() == 8; }));
  EXPECT_EQ(multipliers, (std::vector<uint32_t>{1, 2, 3, 4}));
  // base x multiplier, capped: 100, 200, 250, 250 (EjectionDuration, what
  // the sweep compares with). A host is never back before its time; how
  // much later the first sweep after it runs is up to the machine's load,
  // so there is no upper bound in wall time here.
  std::vector<milliseconds> expected = {milliseconds(100), milliseconds(200), milliseconds(250),
                                        milliseconds(250)};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(EjectionDuration(options_, multipliers[i]), expected[i]) << i;
    const Event& out = recorder_.events[2 * i];
    const Event& back = recorder_.events[2 * i + 1];
    ASSERT_TRUE(out.ejected);
    ASSERT_FALSE(back.ejected);
    auto duration = std::chrono::duration_cast<milliseconds>(back.time - out.time);
    EXPECT_GE(duration, expected[i]) << i;
  }
  EXPECT_EQ(statsOf(a).times_ejected, 4u);
}

TEST_F(OutlierDetectorTest, ReturnsAfterTheTimeAndTheMultiplierDecays) {
  options_.base_ejection_time = milliseconds(100);
  create();
  HostSharedPtr a = host("a");
  // The multiplier at each ejection, read as it happens: a loaded machine
  // may run the loop long enough for a host to return before a later look.
  std::vector<uint32_t> multipliers;
  recorder_.on_event = [&](const HostSharedPtr& h, bool ejected) {
    if (ejected) multipliers.push_back(statsOf(h).ejection_multiplier);
  };
  put(a, OutlierResult::k5xx, 5);
  ASSERT_TRUE(runUntil(main_, [&] { return !recorder_.events.empty(); }));
  ASSERT_TRUE(recorder_.events[0].ejected);
  put(a, OutlierResult::k5xx, 3);  // in flight when it was ejected
  ASSERT_TRUE(runUntil(main_, [&] { return recorder_.events.size() >= 2; }));
  ASSERT_EQ(recorder_.events.size(), 2u);
  EXPECT_FALSE(recorder_.events[1].ejected);
  // Out for at least the base ejection time (100 ms), however late the loop
  // ran: the reports in flight neither extended nor repeated the ejection.
  EXPECT_GE(recorder_.events[1].time - recorder_.events[0].time, milliseconds(100));
  OutlierHostStats s = statsOf(a);
  EXPECT_EQ(s.consecutive_5xx, 0u);  // a fresh start on return
  EXPECT_EQ(s.ejection_multiplier, 1u);
  EXPECT_EQ(detector_->stats().ejections_active, 0u);
  // The next sweep finds it in and forgives the ejection.
  ASSERT_TRUE(runUntil(main_, [&] { return statsOf(a).ejection_multiplier == 0; }));
  EXPECT_EQ(statsOf(a).times_ejected, 1u);
  put(a, OutlierResult::k5xx, 5);
  ASSERT_TRUE(runUntil(main_, [&] { return recorder_.events.size() >= 3; }));
  EXPECT_EQ(multipliers, (std::vector<uint32_t>{1, 1}));  // base time again, not double
}

TEST_F(OutlierDetectorTest, GatewayFailuresAreCountedButNotEnforcedByDefault) {
  options_.consecutive_5xx = 1000;  // keep the 5xx detector out of the way
  create();
  HostSharedPtr a = host("a");
  put(a, OutlierResult::kGatewayFailure, 5);
  settle();
  EXPECT_FALSE(detector_->ejected(*a));
  EXPECT_EQ(detector_->stats().ejections_detected_consecutive_gateway_failure, 1u);
  EXPECT_EQ(detector_->stats().ejections_enforced_consecutive_gateway_failure, 0u);
  EXPECT_EQ(detector_->stats().ejections_overflow, 0u);
  EXPECT_EQ(statsOf(a).consecutive_gateway_failure, 0u);
  EXPECT_EQ(statsOf(a).consecutive_5xx, 5u);
  // A plain 5xx breaks a gateway streak.
  put(a, OutlierResult::kGatewayFailure, 4);
  put(a, OutlierResult::k5xx);
  put(a, OutlierResult::kGatewayFailure, 4);
  settle();
  EXPECT_EQ(detector_->stats().ejections_detected_consecutive_gateway_failure, 1u);
  EXPECT_TRUE(recorder_.events.empty());
}

TEST_F(OutlierDetectorTest, GatewayFailuresEjectWhenEnforced) {
  options_.consecutive_5xx = 1000;
  options_.enforcing_consecutive_gateway_failure = 100;
  create();
  HostSharedPtr a = host("a");
  put(a, OutlierResult::kGatewayFailure, 5);
  settle();
  EXPECT_TRUE(detector_->ejected(*a));
  EXPECT_EQ(detector_->stats().ejections_enforced_consecutive_gateway_failure, 1u);
}

TEST_F(OutlierDetectorTest, GatewayFailuresAlsoCountAs5xx) {
  create();  // defaults: both thresholds 5, only 5xx enforced
  HostSharedPtr a = host("a");
  put(a, OutlierResult::kGatewayFailure, 5);
  settle();
  EXPECT_TRUE(detector_->ejected(*a));
  EXPECT_EQ(recorder_.events.size(), 1u);
  OutlierClusterStats stats = detector_->stats();
  EXPECT_EQ(stats.ejections_detected_consecutive_gateway_failure, 1u);
  EXPECT_EQ(stats.ejections_enforced_consecutive_gateway_failure, 0u);
  EXPECT_EQ(stats.ejections_enforced_consecutive_5xx, 1u);
}

TEST_F(OutlierDetectorTest, LocalOriginFailuresCountAsGatewayFailuresUnlessSplit) {
  create();
  HostSharedPtr a = host("a");
  put(a, OutlierResult::kConnectFailure, 2);
  put(a, OutlierResult::kReset, 2);
  put(a, OutlierResult::kTimeout);
  settle();
  EXPECT_TRUE(detector_->ejected(*a));
  EXPECT_EQ(detector_->stats().ejections_detected_consecutive_gateway_failure, 1u);
  EXPECT_EQ(detector_->stats().ejections_enforced_consecutive_5xx, 1u);
  EXPECT_EQ(detector_->stats().ejections_detected_consecutive_local_origin_failure, 0u);
}

TEST_F(OutlierDetectorTest, SplitLocalOriginFailures) {
  options_.split_external_local_origin_errors = true;
  create();
  HostSharedPtr a = host("a");
  put(a, OutlierResult::kConnectFailure, 4);
  EXPECT_EQ(statsOf(a).consecutive_5xx, 0u);
  EXPECT_EQ(statsOf(a).consecutive_local_origin_failure, 4u);
  // Any answer, even a 5xx, proves the connection works.
  put(a, OutlierResult::k5xx);
  EXPECT_EQ(statsOf(a).consecutive_local_origin_failure, 0u);
  put(a, OutlierResult::kTimeout, 4);
  settle();
  EXPECT_FALSE(detector_->ejected(*a));
  put(a, OutlierResult::kReset);
  settle();
  EXPECT_TRUE(detector_->ejected(*a));
  EXPECT_EQ(detector_->stats().ejections_enforced_consecutive_local_origin_failure, 1u);
  EXPECT_EQ(detector_->stats().ejections_detected_consecutive_5xx, 0u);
}

TEST_F(OutlierDetectorTest, EnforcingPercentageIsAChance) {
  options_.interval = milliseconds(10000);
  options_.max_ejection_percent = 100;
  options_.enforcing_consecutive_5xx = 50;
  create();
  std::vector<HostSharedPtr> all;
  for (int i = 0; i < 200; ++i) all.push_back(host("h" + std::to_string(i)));
  for (const HostSharedPtr& h : all) put(h, OutlierResult::k5xx, 5);
  settle();
  OutlierClusterStats stats = detector_->stats();
  EXPECT_EQ(stats.ejections_detected_consecutive_5xx, 200u);
  EXPECT_GT(stats.ejections_enforced_consecutive_5xx, 60u);
  EXPECT_LT(stats.ejections_enforced_consecutive_5xx, 140u);
  EXPECT_EQ(stats.ejections_active, stats.ejections_enforced_consecutive_5xx);
}

TEST_F(OutlierDetectorTest, RemovedHostsAreForgotten) {
  options_.max_ejection_percent = 100;
  create();
  HostSharedPtr a = host("a");
  HostSharedPtr b = host("b");
  put(a, OutlierResult::k5xx, 5);
  settle();
  ASSERT_EQ(detector_->stats().ejections_active, 1u);
  detector_->removeHost(a);
  EXPECT_EQ(detector_->stats().ejections_active, 0u);
  EXPECT_EQ(detector_->monitor(*a), nullptr);
  // A late report from a worker's old snapshot.
  OutlierMonitorSharedPtr old_b = detector_->monitor(*b);
  detector_->removeHost(b);
  old_b->putResult(OutlierResult::k5xx);
  for (int i = 0; i < 4; ++i) old_b->putResult(OutlierResult::k5xx);
  runFor(main_, milliseconds(50));
  EXPECT_EQ(recorder_.events.size(), 1u);
  EXPECT_FALSE(detector_->ejected(*b));
}

TEST_F(OutlierDetectorTest, MonitorsOutliveTheDetector) {
  create();
  HostSharedPtr a = host("a");
  OutlierMonitorSharedPtr monitor = detector_->monitor(*a);
  monitor->putResult(OutlierResult::k5xx);
  for (int i = 0; i < 4; ++i) monitor->putResult(OutlierResult::k5xx);  // posted
  detector_.reset();
  for (int i = 0; i < 10; ++i) monitor->putResult(OutlierResult::kTimeout);
  runFor(main_, milliseconds(50));
  EXPECT_TRUE(recorder_.events.empty());
}

TEST_F(OutlierDetectorTest, CallbacksMayDestroyTheDetector) {
  options_.base_ejection_time = milliseconds(100);
  options_.max_ejection_percent = 100;
  create();
  HostSharedPtr a = host("a");
  HostSharedPtr b = host("b");
  // Both return in the same sweep; the first return's callback destroys it.
  recorder_.on_event = [&](const HostSharedPtr&, bool ejected) {
    if (!ejected) detector_.reset();
  };
  put(a, OutlierResult::k5xx, 5);
  put(b, OutlierResult::k5xx, 5);
  ASSERT_TRUE(runUntil(main_, [&] { return detector_ == nullptr; }));
  runFor(main_, milliseconds(50));
  EXPECT_EQ(recorder_.events.size(), 3u);
}

}  // namespace
}  // namespace modgate::upstream
