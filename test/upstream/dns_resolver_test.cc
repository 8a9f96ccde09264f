#include <netinet/in.h>

#include "gtest/gtest.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/upstream/threaded_dns_resolver.h"
#include "test/upstream/test_support.h"

namespace modgate::upstream {
namespace {

using Answer = absl::StatusOr<std::vector<network::Address>>;

class DnsResolverTest : public ::testing::Test {
 protected:
  event::DispatcherImpl dispatcher_{"dns-test"};
};

TEST_F(DnsResolverTest, NumericHostsAnswerAtOnce) {
  ThreadedDnsResolver resolver(dispatcher_);
  std::optional<Answer> answer;
  EXPECT_EQ(resolver.resolve("127.0.0.1", 8080, [&](Answer a) { answer = std::move(a); }), nullptr);
  ASSERT_TRUE(answer.has_value() && answer->ok());
  ASSERT_EQ((*answer)->size(), 1u);
  EXPECT_EQ((*answer)->front().toString(), "127.0.0.1:8080");
  answer.reset();
  EXPECT_EQ(resolver.resolve("::1", 443, [&](Answer a) { answer = std::move(a); }), nullptr);
  ASSERT_TRUE(answer.has_value() && answer->ok());
  EXPECT_EQ((*answer)->front().toString(), "[::1]:443");
  EXPECT_EQ(resolver.lookupsStarted(), 0u);
}

TEST_F(DnsResolverTest, LocalhostResolvesSharedAndCached) {
  ThreadedDnsResolver resolver(dispatcher_);
  std::optional<Answer> first, second, third;
  EXPECT_NE(resolver.resolve("localhost", 80, [&](Answer a) { first = std::move(a); }), nullptr);
  EXPECT_NE(resolver.resolve("localhost", 81, [&](Answer a) { second = std::move(a); }), nullptr);
  ASSERT_TRUE(testing::runUntil(dispatcher_, [&] { return first && second; }));
  ASSERT_TRUE(first->ok()) << first->status();
  ASSERT_TRUE(second->ok());
  EXPECT_EQ(resolver.lookupsStarted(), 1u);
  bool loopback = false;
  for (const auto& address : **first) {
    std::string text = address.toString();
    loopback |= text == "127.0.0.1:80" || text == "[::1]:80";
  }
  EXPECT_TRUE(loopback);
  EXPECT_NE((*second)->front().toString(), (*first)->front().toString());  // own port
  // Cached: answered at once.
  EXPECT_EQ(resolver.resolve("localhost", 82, [&](Answer a) { third = std::move(a); }), nullptr);
  EXPECT_TRUE(third.has_value() && third->ok());
  EXPECT_EQ(resolver.lookupsStarted(), 1u);
}

TEST_F(DnsResolverTest, CacheExpires) {
  ThreadedDnsResolver resolver(dispatcher_, std::chrono::milliseconds(50));
  std::optional<Answer> answer;
  resolver.resolve("localhost", 80, [&](Answer a) { answer = std::move(a); });
  ASSERT_TRUE(testing::runUntil(dispatcher_, [&] { return answer.has_value(); }));
  testing::runFor(dispatcher_, std::chrono::milliseconds(100));
  answer.reset();
  EXPECT_NE(resolver.resolve("localhost", 80, [&](Answer a) { answer = std::move(a); }), nullptr);
  ASSERT_TRUE(testing::runUntil(dispatcher_, [&] { return answer.has_value(); }));
  EXPECT_EQ(resolver.lookupsStarted(), 2u);
}

TEST_F(DnsResolverTest, CancelledQueryNeverCalls) {
  ThreadedDnsResolver resolver(dispatcher_);
  bool called = false;
  std::optional<Answer> other;
  DnsResolver::Query* query = resolver.resolve("localhost", 80, [&](Answer) { called = true; });
  ASSERT_NE(query, nullptr);
  resolver.resolve("localhost", 80, [&](Answer a) { other = std::move(a); });
  query->cancel();
  ASSERT_TRUE(testing::runUntil(dispatcher_, [&] { return other.has_value(); }));
  EXPECT_FALSE(called);
}

TEST_F(DnsResolverTest, DestroyedWithLookupInFlight) {
  bool called = false;
  {
    ThreadedDnsResolver resolver(dispatcher_);
    resolver.resolve("localhost", 80, [&](Answer) { called = true; });
  }
  testing::runFor(dispatcher_, std::chrono::milliseconds(200));
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace modgate::upstream
