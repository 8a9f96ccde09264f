#include "source/control_plane/fleet.h"

#include <prometheus/registry.h>

#include "gtest/gtest.h"
#include "source/common/json/proto_json.h"

namespace modgate::control_plane {
namespace {

constexpr char kCluster[] = "type.googleapis.com/modgate.config.v1.Cluster";

envoy::config::core::v3::Node PodNode(const std::string& id) {
  envoy::config::core::v3::Node node;
  node.set_id(id);
  node.set_cluster("ci");
  (*node.mutable_metadata()->mutable_fields())["team"].set_string_value("build");
  return node;
}

// GET /fleet's body as the scripts read it: numbers stay JSON numbers (a
// uint64 or int64 field would print as a string), and what a node has not
// done yet (NACK, report) is absent.
TEST(FleetTest, StatusPrintsNumbersAndLeavesOutWhatDidNotHappen) {
  Fleet fleet(std::make_shared<prometheus::Registry>());
  fleet.onNewGeneration(3, std::chrono::steady_clock::now());
  Fleet::Node& node = fleet.connect(PodNode("pod-1"), "127.0.0.1:4000", "delta", "canary");
  fleet.onPush(node, kCluster, 2);
  fleet.onEvent(node, SessionEvent{SessionEvent::Kind::kAck, kCluster, "v1", "n1", "", 3});
  fleet.onSynced(node, 3);

  const std::string json = json::ToJson(fleet.status());
  EXPECT_NE(json.find(R"("generation":3,"connected":1,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("labels":{"team":"build"})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("synced_generation":3,"in_sync":true,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("types":{"Cluster":{"acked_version":"v1","acked_at_ms":1)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("pushes":1,"resources_sent":2})"), std::string::npos) << json;
  EXPECT_EQ(json.find("connected_since_ms\":\""), std::string::npos) << json;
  EXPECT_EQ(json.find("disconnected_at_ms"), std::string::npos) << json;
  EXPECT_EQ(json.find("last_nack"), std::string::npos) << json;
  EXPECT_EQ(json.find("last_report"), std::string::npos) << json;
}

TEST(FleetTest, StatusShowsTheLastNackAndReport) {
  Fleet fleet(std::make_shared<prometheus::Registry>());
  Fleet::Node& node = fleet.connect(PodNode("pod-1"), "127.0.0.1:4000", "sotw", "");
  fleet.onEvent(
      node, SessionEvent{SessionEvent::Kind::kNack, kCluster, "v0", "n2", "clusters[0]: bad", 1});
  service::fleet::v1::Report report;
  report.mutable_interval()->set_seconds(10);
  auto& route = *report.add_routes();
  route.set_route("public");
  route.set_canary_weight(50);
  route.mutable_canary()->set_requests(7);
  route.mutable_canary()->set_responses_5xx(2);
  fleet.onReport("pod-1", report);
  fleet.disconnect(node);

  const admin::v1::FleetStatus status = fleet.status();
  ASSERT_EQ(status.nodes_size(), 1);
  const admin::v1::FleetNode& view = status.nodes(0);
  EXPECT_FALSE(view.connected());
  EXPECT_TRUE(view.has_disconnected_at_ms());
  EXPECT_EQ(view.last_nack().type(), "Cluster");
  EXPECT_EQ(view.last_nack().message(), "clusters[0]: bad");
  const std::string json = json::ToJson(status);
  EXPECT_NE(json.find(R"("interval_ms":10000,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"({"route":"public","canary_weight":50,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("canary":{"requests":7,"responses_5xx":2,)"), std::string::npos) << json;
}

}  // namespace
}  // namespace modgate::control_plane
