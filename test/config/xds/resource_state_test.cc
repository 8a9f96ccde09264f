#include "source/config/xds/resource_state.h"

#include "api/modgate/config/v1/resources.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace modgate::config::xds {
namespace {

using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryResponse;

v1::Cluster cluster(const std::string& name, const std::string& url) {
  v1::Cluster c;
  c.set_name(name);
  c.add_endpoints()->set_url(url);
  return c;
}

void addResource(DeltaDiscoveryResponse& response, const std::string& name,
                 const std::string& version, const google::protobuf::Message& message) {
  auto* resource = response.add_resources();
  resource->set_name(name);
  resource->set_version(version);
  resource->mutable_resource()->PackFrom(message);
}

TEST(ResourceStateTest, DeltaAddsReplacesAndRemoves) {
  ResourceState state;
  DeltaDiscoveryResponse clusters;
  clusters.set_type_url(std::string(kClusterType));
  addResource(clusters, "a", "v1", cluster("a", "http://a"));
  addResource(clusters, "b", "v1", cluster("b", "http://b"));
  state.applyDelta(clusters);
  EXPECT_TRUE(state.known(std::string(kClusterType)));
  EXPECT_FALSE(state.known(std::string(kRouteTableType)));

  DeltaDiscoveryResponse routes;
  routes.set_type_url(std::string(kRouteTableType));
  v1::RouteTable table;
  table.add_routes()->set_name("first");
  table.add_routes()->set_name("second");
  addResource(routes, "routes", "r1", table);
  state.applyDelta(routes);

  DeltaDiscoveryResponse change;
  change.set_type_url(std::string(kClusterType));
  addResource(change, "b", "v2", cluster("b", "http://b2"));
  change.add_removed_resources("a");
  state.applyDelta(change);

  auto dynamic = state.toDynamicConfig();
  ASSERT_TRUE(dynamic.ok()) << dynamic.status();
  ASSERT_EQ(dynamic->clusters_size(), 1);
  EXPECT_EQ(dynamic->clusters(0).endpoints(0).url(), "http://b2");
  ASSERT_EQ(dynamic->routes_size(), 2);
  EXPECT_EQ(dynamic->routes(1).name(), "second");
  EXPECT_EQ(dynamic->resource_versions().at(std::string(kClusterType) + " b"), "v2");
  EXPECT_EQ(state.versions(std::string(kClusterType)),
            (std::map<std::string, std::string>{{"b", "v2"}}));
}

TEST(ResourceStateTest, ANameThatDoesNotMatchIsAnError) {
  ResourceState state;
  DeltaDiscoveryResponse clusters;
  clusters.set_type_url(std::string(kClusterType));
  addResource(clusters, "a", "v1", cluster("not-a", "http://a"));
  v1::Listener listener;
  addResource(clusters, "l", "v1", listener);  // wrong type under Cluster
  state.applyDelta(clusters);
  auto dynamic = state.toDynamicConfig();
  ASSERT_FALSE(dynamic.ok());
  EXPECT_NE(dynamic.status().message().find("resource \"a\""), absl::string_view::npos);
  EXPECT_NE(dynamic.status().message().find("holds \"not-a\""), absl::string_view::npos);
  EXPECT_NE(dynamic.status().message().find("resource \"l\""), absl::string_view::npos);
}

TEST(ResourceStateTest, PersistedConfigRoundTripsWithVersions) {
  ResourceState state;
  DeltaDiscoveryResponse clusters;
  clusters.set_type_url(std::string(kClusterType));
  addResource(clusters, "a", "v1", cluster("a", "http://a"));
  state.applyDelta(clusters);
  DeltaDiscoveryResponse runtime;
  runtime.set_type_url(std::string(kRuntimeType));
  v1::Runtime values;
  (*values.mutable_values())["k"] = 7;
  addResource(runtime, "runtime", "x9", values);
  state.applyDelta(runtime);
  state.typeVersions()[std::string(kClusterType)] = "sys1";
  auto dynamic = state.toDynamicConfig();
  ASSERT_TRUE(dynamic.ok()) << dynamic.status();

  ResourceState restored = ResourceState::fromDynamicConfig(*dynamic);
  for (const std::string& type : subscribedTypes()) EXPECT_TRUE(restored.known(type)) << type;
  EXPECT_EQ(restored.versions(std::string(kClusterType)),
            (std::map<std::string, std::string>{{"a", "v1"}}));
  EXPECT_EQ(restored.versions(std::string(kRuntimeType)),
            (std::map<std::string, std::string>{{"runtime", "x9"}}));
  EXPECT_TRUE(restored.versions(std::string(kListenerType)).empty());
  auto again = restored.toDynamicConfig();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*again, *dynamic));
}

TEST(ResourceStateTest, SotwReplacesTheWholeType) {
  ResourceState state;
  DiscoveryResponse first;
  first.set_type_url(std::string(kClusterType));
  first.set_version_info("1");
  first.add_resources()->PackFrom(cluster("a", "http://a"));
  first.add_resources()->PackFrom(cluster("b", "http://b"));
  ASSERT_TRUE(state.applySotw(first).ok());
  DiscoveryResponse second;
  second.set_type_url(std::string(kClusterType));
  second.set_version_info("2");
  second.add_resources()->PackFrom(cluster("b", "http://b"));
  ASSERT_TRUE(state.applySotw(second).ok());
  EXPECT_EQ(state.versions(std::string(kClusterType)),
            (std::map<std::string, std::string>{{"b", "2"}}));

  DiscoveryResponse bad;
  bad.set_type_url(std::string(kClusterType));
  bad.add_resources()->PackFrom(v1::Listener());
  EXPECT_FALSE(state.applySotw(bad).ok());
}

}  // namespace
}  // namespace modgate::config::xds
