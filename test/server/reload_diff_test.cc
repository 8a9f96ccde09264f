// The pure parts of a config reload: which listeners change, and which
// fields refuse to change without a restart.

#include "gtest/gtest.h"
#include "source/server/listener_diff.h"
#include "source/server/restart_fields.h"

namespace modgate::server {
namespace {

google::protobuf::RepeatedPtrField<config::v1::Listener> listeners(
    std::vector<std::pair<std::string, std::string>> entries) {
  google::protobuf::RepeatedPtrField<config::v1::Listener> out;
  for (auto& [name, address] : entries) {
    auto* listener = out.Add();
    listener->set_name(name);
    listener->set_address(address);
  }
  return out;
}

TEST(ListenerDiffTest, UnchangedListenersAreKept) {
  auto diff = diffListeners(listeners({{"main", "127.0.0.1:80"}, {"b", "127.0.0.1:81"}}),
                            listeners({{"b", "127.0.0.1:81"}, {"main", "127.0.0.1:80"}}));
  EXPECT_FALSE(diff.changed());
  EXPECT_EQ(diff.kept, (std::vector<std::pair<size_t, size_t>>{{1, 0}, {0, 1}}));
}

TEST(ListenerDiffTest, AddedAndRemoved) {
  auto diff = diffListeners(listeners({{"main", "127.0.0.1:80"}, {"old", "127.0.0.1:81"}}),
                            listeners({{"main", "127.0.0.1:80"}, {"new", "127.0.0.1:82"}}));
  EXPECT_EQ(diff.kept, (std::vector<std::pair<size_t, size_t>>{{0, 0}}));
  EXPECT_EQ(diff.added, std::vector<size_t>{1});
  EXPECT_EQ(diff.removed, std::vector<size_t>{1});
}

TEST(ListenerDiffTest, NewAddressUnderTheSameNameIsARebind) {
  auto diff =
      diffListeners(listeners({{"main", "127.0.0.1:80"}}), listeners({{"main", "127.0.0.1:8080"}}));
  EXPECT_TRUE(diff.kept.empty());
  EXPECT_EQ(diff.added, std::vector<size_t>{0});
  EXPECT_EQ(diff.removed, std::vector<size_t>{0});
}

TEST(ListenerDiffTest, NewNameForTheSameAddressIsARebind) {
  auto diff = diffListeners(listeners({{"a", "127.0.0.1:80"}}), listeners({{"b", "127.0.0.1:80"}}));
  EXPECT_TRUE(diff.kept.empty());
  EXPECT_EQ(diff.added.size(), 1u);
  EXPECT_EQ(diff.removed.size(), 1u);
}

config::v1::Bootstrap base() {
  config::v1::Bootstrap b;
  b.set_concurrency(2);
  b.mutable_admin()->set_address("127.0.0.1:9901");
  b.mutable_cache()->set_dir("/var/cache/modgate");
  b.mutable_cache()->mutable_max_bytes()->set_value(1000);
  b.mutable_cache()->mutable_list_ttl()->set_seconds(60);
  b.mutable_limits()->mutable_idle_timeout()->set_seconds(60);
  b.add_clusters()->set_name("a");
  return b;
}

TEST(RestartFieldsTest, ReloadableChangesPass) {
  config::v1::Bootstrap next = base();
  next.mutable_cache()->mutable_list_ttl()->set_seconds(5);
  next.mutable_cache()->set_offline(true);
  next.add_clusters()->set_name("b");
  next.add_routes()->set_name("r");
  next.set_log_level("debug");
  next.add_listeners()->set_name("extra");
  EXPECT_TRUE(checkRestartOnlyFields(base(), next).ok());
}

TEST(RestartFieldsTest, EachRestartOnlyFieldIsNamed) {
  config::v1::Bootstrap next = base();
  next.set_concurrency(4);
  next.mutable_admin()->set_address("127.0.0.1:9902");
  next.mutable_cache()->set_dir("/tmp/other");
  next.mutable_cache()->mutable_max_bytes()->set_value(2000);
  next.mutable_cache()->mutable_hot_cache_max_bytes()->set_value(1);
  next.mutable_limits()->mutable_idle_timeout()->set_seconds(5);
  next.mutable_limits()->set_max_connections(10);
  absl::Status status = checkRestartOnlyFields(base(), next);
  ASSERT_FALSE(status.ok());
  const std::string message(status.message());
  for (const char* expected : {
           "concurrency: 2 -> 4: requires a restart",
           "admin.address: \"127.0.0.1:9901\" -> \"127.0.0.1:9902\": requires a restart",
           "cache.dir: \"/var/cache/modgate\" -> \"/tmp/other\": requires a restart",
           "cache.max_bytes: 1000 -> 2000: requires a restart",
           "cache.hot_cache_max_bytes: unset -> 1: requires a restart",
           "limits.idle_timeout: 60s -> 5s: requires a restart",
           "limits.max_connections: 0 -> 10: requires a restart",
       }) {
    EXPECT_NE(message.find(expected), std::string::npos) << expected << "\nin:\n" << message;
  }
}

}  // namespace
}  // namespace modgate::server
