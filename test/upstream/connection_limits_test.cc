// The upstream client's connection circuit breakers (RequestOptions::limits):
// max connections (cluster-wide and per host, shared between clients as
// between workers), pending requests waiting for a connection to come free,
// and overflow.

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/upstream/http_client.h"
#include "source/upstream/http_client_impl.h"
#include "test/upstream/test_support.h"

namespace modgate::upstream {
namespace {

using testing::Collector;
using testing::OriginProcess;
using testing::runFor;
using testing::runUntil;

class ConnectionLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    origin_ = OriginProcess::start({});
    ASSERT_NE(origin_, nullptr);
    base_ = *Url::parse("http://127.0.0.1:" + std::to_string(origin_->port()));
    client_ = createHttpClient(dispatcher_, {});
  }

  void TearDown() override {
    client_.reset();
    runFor(dispatcher_, std::chrono::milliseconds(0));
  }

  HttpClientImpl& impl() { return static_cast<HttpClientImpl&>(*client_); }

  // Cluster-wide limits; `pending` null = unlimited waiters.
  RequestOptions limited(uint64_t connections, std::optional<uint64_t> pending) {
    RequestOptions options;
    options.limits.cluster_connections = cluster_connections_ =
        std::make_shared<ResourceLimit>(connections, [this] { ++cx_overflows_; });
    if (pending.has_value()) {
      options.limits.pending_requests = pending_ = std::make_shared<ResourceLimit>(*pending);
    }
    return options;
  }

  // Sends every path with `options`, runs until all are done.
  void sendAll(const std::vector<std::string>& paths, std::vector<Collector>& collectors,
               const RequestOptions& options) {
    collectors = std::vector<Collector>(paths.size());
    for (size_t i = 0; i < paths.size(); ++i) {
      client_->send(base_, paths[i], {}, collectors[i], options);
    }
    ASSERT_TRUE(runUntil(dispatcher_, [&] {
      for (const Collector& c : collectors) {
        if (!c.done()) return false;
      }
      return true;
    }));
  }

  // Connections the origin accepted so far (asked over an unlimited
  // request, which may open one more).
  int serverConnections() {
    Collector c;
    client_->send(base_, "/count", {}, c, {});
    EXPECT_TRUE(runUntil(dispatcher_, [&] { return c.done(); }));
    EXPECT_TRUE(c.complete) << c.detail;
    return std::stoi(c.body);
  }

  event::DispatcherImpl dispatcher_{"limits-test"};
  std::unique_ptr<OriginProcess> origin_;
  Url base_;
  std::unique_ptr<HttpClient> client_;
  ResourceLimitSharedPtr cluster_connections_;
  ResourceLimitSharedPtr pending_;
  int cx_overflows_ = 0;
};

TEST_F(ConnectionLimitsTest, RequestsBeyondTheLimitShareOneConnectionInTurn) {
  RequestOptions options = limited(1, std::nullopt);
  std::vector<std::string> paths(5, "/slow-headers?ms=50");
  std::vector<Collector> collectors;
  sendAll(paths, collectors, options);
  for (const Collector& c : collectors) {
    ASSERT_TRUE(c.complete) << c.detail;
    EXPECT_EQ(c.body, "slow");
  }
  // Each waiter got the one connection handed over as the previous ended.
  EXPECT_EQ(impl().connectionsOpened(), 1u);
  EXPECT_EQ(serverConnections(), 1);
  EXPECT_GE(cx_overflows_, 4);
  EXPECT_EQ(cluster_connections_->count(), 1u);  // the idle connection
  client_.reset();
  runFor(dispatcher_, std::chrono::milliseconds(0));
  EXPECT_EQ(cluster_connections_->count(), 0u);
}

TEST_F(ConnectionLimitsTest, LimitOfTwoOpensTwo) {
  RequestOptions options = limited(2, std::nullopt);
  std::vector<std::string> paths(6, "/slow-headers?ms=50");
  std::vector<Collector> collectors;
  sendAll(paths, collectors, options);
  for (const Collector& c : collectors) ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_EQ(impl().connectionsOpened(), 2u);
  EXPECT_EQ(impl().idleConnections(base_), 2u);
  EXPECT_EQ(cluster_connections_->count(), 2u);
}

TEST_F(ConnectionLimitsTest, PendingOverflowFailsAtOnce) {
  RequestOptions options = limited(1, 1);
  // One runs, one waits, one has no room to wait (requests start in no
  // particular order).
  std::vector<Collector> collectors(3);
  for (Collector& c : collectors) client_->send(base_, "/slow-headers?ms=300", {}, c, options);
  auto done = [&] {
    int n = 0;
    for (const Collector& c : collectors) n += c.done() ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return done() >= 1; }));
  ASSERT_EQ(done(), 1);
  size_t refused = 0;
  while (!collectors[refused].done()) ++refused;
  ASSERT_TRUE(collectors[refused].failed);
  EXPECT_EQ(collectors[refused].reason, FailureReason::kPoolOverflow);
  EXPECT_NE(collectors[refused].detail.find("max_pending_requests (1)"), std::string::npos)
      << collectors[refused].detail;
  EXPECT_EQ(pending_->count(), 1u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return done() == 3; }));
  for (size_t i = 0; i < collectors.size(); ++i) {
    if (i != refused) {
      EXPECT_TRUE(collectors[i].complete) << collectors[i].detail;
    }
  }
  EXPECT_EQ(pending_->count(), 0u);
  EXPECT_EQ(impl().connectionsOpened(), 1u);
}

TEST_F(ConnectionLimitsTest, ZeroPendingRequestsFailsWhateverCannotConnectAtOnce) {
  RequestOptions options = limited(1, 0);
  std::vector<std::string> paths(2, "/slow-headers?ms=100");
  std::vector<Collector> collectors;
  sendAll(paths, collectors, options);
  ASSERT_NE(collectors[0].failed, collectors[1].failed);
  const Collector& refused = collectors[0].failed ? collectors[0] : collectors[1];
  const Collector& served = collectors[0].failed ? collectors[1] : collectors[0];
  EXPECT_TRUE(served.complete) << served.detail;
  EXPECT_EQ(refused.reason, FailureReason::kPoolOverflow);
}

TEST_F(ConnectionLimitsTest, PendingRequestWaitsAtMostTheResponseTimeout) {
  RequestOptions options = limited(1, std::nullopt);
  Collector slow, waiting;
  client_->send(base_, "/slow-headers?ms=3000", {}, slow, options);
  // Requests start in no particular order: let this one take the slot.
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return cluster_connections_->count() == 1; }));
  RequestOptions impatient = options;
  impatient.response_timeout = std::chrono::milliseconds(200);
  client_->send(base_, "/hello", {}, waiting, impatient);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return waiting.done(); }));
  EXPECT_FALSE(slow.done());
  ASSERT_TRUE(waiting.failed);
  EXPECT_EQ(waiting.reason, FailureReason::kPoolOverflow);
  EXPECT_NE(waiting.detail.find("came free"), std::string::npos) << waiting.detail;
  EXPECT_EQ(pending_, nullptr);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return slow.done(); }));
  EXPECT_TRUE(slow.complete) << slow.detail;
}

TEST_F(ConnectionLimitsTest, ClosedConnectionFreesItsSlotForAWaiter) {
  RequestOptions options = limited(1, std::nullopt);
  // The first answer closes its connection: a waiter opens a new one.
  Collector closing;
  client_->send(base_, "/conn-close?ms=100", {}, closing, options);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return cluster_connections_->count() == 1; }));
  std::vector<std::string> paths = {"/hello", "/hello"};
  std::vector<Collector> collectors;
  sendAll(paths, collectors, options);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closing.done(); }));
  ASSERT_TRUE(closing.complete) << closing.detail;
  for (const Collector& c : collectors) ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_EQ(impl().connectionsOpened(), 2u);
  EXPECT_EQ(cluster_connections_->count(), 1u);
}

TEST_F(ConnectionLimitsTest, FailedConnectFreesItsSlot) {
  // A port that was just free: every connect is refused.
  base_ = *Url::parse("http://127.0.0.1:1");
  RequestOptions options = limited(1, std::nullopt);
  std::vector<std::string> paths(3, "/hello");
  std::vector<Collector> collectors;
  sendAll(paths, collectors, options);
  for (const Collector& c : collectors) {
    ASSERT_TRUE(c.failed);
    EXPECT_EQ(c.reason, FailureReason::kConnectFailure) << c.detail;
  }
  EXPECT_EQ(cluster_connections_->count(), 0u);
}

TEST_F(ConnectionLimitsTest, PoolWithoutConnectionsMayAlwaysOpenOne) {
  // Another worker (or endpoint) holds the whole cluster limit: this pool
  // still gets one connection, or its requests would wait for nobody.
  RequestOptions options = limited(1, std::nullopt);
  cluster_connections_->forceAcquire();
  std::vector<std::string> paths(3, "/slow-headers?ms=50");
  std::vector<Collector> collectors;
  sendAll(paths, collectors, options);
  for (const Collector& c : collectors) ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_EQ(impl().connectionsOpened(), 1u);
  EXPECT_EQ(cluster_connections_->count(), 2u);
  cluster_connections_->release();
}

TEST_F(ConnectionLimitsTest, HostLimitAppliesWithTheClusterLimit) {
  RequestOptions options = limited(10, std::nullopt);
  options.limits.host_connections = std::make_shared<ResourceLimit>(1);
  std::vector<std::string> paths(4, "/slow-headers?ms=50");
  std::vector<Collector> collectors;
  sendAll(paths, collectors, options);
  for (const Collector& c : collectors) ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_EQ(impl().connectionsOpened(), 1u);
  EXPECT_EQ(options.limits.host_connections->count(), 1u);
  EXPECT_EQ(cluster_connections_->count(), 1u);
}

TEST_F(ConnectionLimitsTest, CancelledWaiterLeavesTheQueue) {
  RequestOptions options = limited(1, 5);
  Collector first, cancelled, last;
  client_->send(base_, "/slow-headers?ms=200", {}, first, options);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return cluster_connections_->count() == 1; }));
  UpstreamRequest* request = client_->send(base_, "/hello", {}, cancelled, options);
  client_->send(base_, "/hello", {}, last, options);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return pending_->count() == 2; }));
  request->cancel();
  EXPECT_EQ(pending_->count(), 1u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return first.done() && last.done(); }));
  EXPECT_TRUE(first.complete) << first.detail;
  EXPECT_TRUE(last.complete) << last.detail;
  EXPECT_FALSE(cancelled.done());
  EXPECT_EQ(pending_->count(), 0u);
  EXPECT_EQ(impl().connectionsOpened(), 1u);
}

TEST_F(ConnectionLimitsTest, ResourceLimitNeverExceedsItsMaxUnderContention) {
  ResourceLimit limit(8);
  std::atomic<int> over{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        if (!limit.tryAcquire()) continue;
        if (limit.count() > limit.max()) ++over;
        limit.release();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(over.load(), 0);
  EXPECT_EQ(limit.count(), 0u);
}

}  // namespace
}  // namespace modgate::upstream
