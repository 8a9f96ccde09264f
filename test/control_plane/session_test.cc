// The xDS protocol state machines alone: requests and snapshots in,
// responses and events out.

#include <gtest/gtest.h>

#include "source/control_plane/delta_session.h"
#include "source/control_plane/sotw_session.h"

namespace modgate::control_plane {
namespace {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

const std::string kClusters(kClusterType);
const std::string kListeners(kListenerType);

// A snapshot with clusters named `names`, each with endpoint url
// "http://<name>:<port>".
SnapshotConstPtr clusters(uint64_t generation, std::vector<std::string> names, int port = 80) {
  config::v1::Bootstrap config;
  for (const std::string& name : names) {
    auto* cluster = config.add_clusters();
    cluster->set_name(name);
    cluster->add_endpoints()->set_url("http://" + name + ":" + std::to_string(port));
  }
  return BuildSnapshot(config, generation, {});
}

std::vector<std::string> names(const DiscoveryResponse& response) {
  std::vector<std::string> out;
  for (const auto& any : response.resources()) {
    config::v1::Cluster cluster;
    any.UnpackTo(&cluster);
    out.push_back(cluster.name());
  }
  return out;
}

std::vector<std::string> names(const DeltaDiscoveryResponse& response) {
  std::vector<std::string> out;
  for (const auto& resource : response.resources()) out.push_back(resource.name());
  return out;
}

std::vector<std::string> removed(const DeltaDiscoveryResponse& response) {
  return {response.removed_resources().begin(), response.removed_resources().end()};
}

using Names = std::vector<std::string>;

TEST(SnapshotTest, VersionsAreContentHashes) {
  auto a = clusters(1, {"a", "b"});
  auto b = clusters(2, {"a", "b"});
  auto c = clusters(3, {"a", "b"}, 81);
  EXPECT_EQ(a->version, b->version);
  EXPECT_NE(a->version, c->version);
  EXPECT_EQ(a->version.size(), 16u);
  const auto& ca = a->find(kClusters)->resources;
  const auto& cc = c->find(kClusters)->resources;
  EXPECT_EQ(ca.at("a").version, b->find(kClusters)->resources.at("a").version);
  EXPECT_NE(ca.at("a").version, cc.at("a").version);
  EXPECT_EQ(ca.at("a").body.type_url(), "type.googleapis.com/modgate.config.v1.Cluster");
  // All five types are present, empty or not.
  EXPECT_EQ(a->types.size(), 5u);
  EXPECT_TRUE(a->find(kRouteTableType)->resources.empty());
}

TEST(SotwSessionTest, FirstRequestAckAndNoResend) {
  SotwSession session("cp", clusters(1, {"a", "b"}));
  SotwSession::Output out;
  DiscoveryRequest request;
  request.set_type_url(kClusters);
  request.mutable_node()->set_id("n1");
  ASSERT_TRUE(session.onRequest(request, out).ok());
  ASSERT_EQ(out.responses.size(), 1u);
  const DiscoveryResponse first = out.responses[0];
  EXPECT_EQ(names(first), (Names{"a", "b"}));
  EXPECT_EQ(first.type_url(), kClusters);
  EXPECT_FALSE(first.nonce().empty());
  EXPECT_EQ(first.control_plane().identifier(), "cp");
  EXPECT_FALSE(session.inSync());

  // ACK.
  out = {};
  request.set_version_info(first.version_info());
  request.set_response_nonce(first.nonce());
  ASSERT_TRUE(session.onRequest(request, out).ok());
  EXPECT_TRUE(out.responses.empty());
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].kind, SessionEvent::Kind::kAck);
  EXPECT_EQ(out.events[0].version, first.version_info());
  EXPECT_TRUE(session.inSync());

  // The same content under a new generation: nothing to send, still in sync.
  out = {};
  session.onSnapshot(clusters(2, {"a", "b"}), out);
  EXPECT_TRUE(out.responses.empty());
  EXPECT_TRUE(session.inSync());

  // A real change: full state (a missing resource means deleted).
  session.onSnapshot(clusters(3, {"b", "c"}), out);
  ASSERT_EQ(out.responses.size(), 1u);
  EXPECT_EQ(names(out.responses[0]), (Names{"b", "c"}));
  EXPECT_NE(out.responses[0].nonce(), first.nonce());
  EXPECT_FALSE(session.inSync());
}

TEST(SotwSessionTest, OneInFlightStaleNonceAndNack) {
  SotwSession session("cp", clusters(1, {"a"}));
  SotwSession::Output out;
  DiscoveryRequest request;
  request.set_type_url(kClusters);
  ASSERT_TRUE(session.onRequest(request, out).ok());
  const DiscoveryResponse r1 = out.responses.at(0);

  // Two changes while r1 is unanswered: nothing goes out yet.
  out = {};
  session.onSnapshot(clusters(2, {"a", "b"}), out);
  session.onSnapshot(clusters(3, {"a", "b", "c"}), out);
  EXPECT_TRUE(out.responses.empty());

  // The ACK of r1 releases only the newest state.
  request.set_version_info(r1.version_info());
  request.set_response_nonce(r1.nonce());
  ASSERT_TRUE(session.onRequest(request, out).ok());
  ASSERT_EQ(out.responses.size(), 1u);
  const DiscoveryResponse r2 = out.responses[0];
  EXPECT_EQ(names(r2), (Names{"a", "b", "c"}));

  // A request still answering r1 is stale: ignored, no event.
  out = {};
  ASSERT_TRUE(session.onRequest(request, out).ok());
  EXPECT_TRUE(out.responses.empty());
  EXPECT_TRUE(out.events.empty());

  // NACK of r2: the version stays at r1's; the event has the text; r2's
  // content is not resent.
  request.set_response_nonce(r2.nonce());
  request.mutable_error_detail()->set_code(3);
  request.mutable_error_detail()->set_message("clusters[2]: port in use");
  ASSERT_TRUE(session.onRequest(request, out).ok());
  EXPECT_TRUE(out.responses.empty());
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].kind, SessionEvent::Kind::kNack);
  EXPECT_EQ(out.events[0].version, r1.version_info());
  EXPECT_EQ(out.events[0].message, "clusters[2]: port in use");
  EXPECT_FALSE(session.inSync());
  out = {};
  session.onSnapshot(clusters(4, {"a", "b", "c"}), out);
  EXPECT_TRUE(out.responses.empty());

  // A fixed config goes out.
  session.onSnapshot(clusters(5, {"a", "b"}), out);
  ASSERT_EQ(out.responses.size(), 1u);
  EXPECT_EQ(names(out.responses[0]), (Names{"a", "b"}));
}

TEST(SotwSessionTest, NamedSubscriptionAndProtocolErrors) {
  SotwSession session("cp", clusters(1, {"a", "b", "c"}));
  SotwSession::Output out;
  DiscoveryRequest request;
  request.set_type_url(kClusters);
  request.add_resource_names("b");
  ASSERT_TRUE(session.onRequest(request, out).ok());
  EXPECT_EQ(names(out.responses.at(0)), (Names{"b"}));
  // A change to a resource not subscribed to sends nothing.
  request.set_response_nonce(out.responses[0].nonce());
  request.set_version_info(out.responses[0].version_info());
  out = {};
  ASSERT_TRUE(session.onRequest(request, out).ok());
  session.onSnapshot(clusters(2, {"a", "b"}), out);
  EXPECT_TRUE(out.responses.empty());
  EXPECT_TRUE(session.inSync());

  DiscoveryRequest bad;
  EXPECT_FALSE(session.onRequest(bad, out).ok());
  bad.set_type_url("type.googleapis.com/envoy.config.cluster.v3.Cluster");
  EXPECT_EQ(session.onRequest(bad, out).message(),
            "unknown resource type type.googleapis.com/envoy.config.cluster.v3.Cluster");
}

TEST(DeltaSessionTest, WildcardAddsChangesRemoves) {
  DeltaSession session("cp", clusters(1, {"a", "b"}));
  DeltaSession::Output out;
  DeltaDiscoveryRequest request;
  request.set_type_url(kClusters);
  ASSERT_TRUE(session.onRequest(request, out).ok());
  ASSERT_EQ(out.responses.size(), 1u);
  DeltaDiscoveryResponse r1 = out.responses[0];
  EXPECT_EQ(names(r1), (Names{"a", "b"}));
  EXPECT_EQ(r1.resources(0).version().size(), 16u);
  EXPECT_TRUE(removed(r1).empty());

  out = {};
  DeltaDiscoveryRequest ack;
  ack.set_type_url(kClusters);
  ack.set_response_nonce(r1.nonce());
  ASSERT_TRUE(session.onRequest(ack, out).ok());
  EXPECT_TRUE(out.responses.empty());
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].kind, SessionEvent::Kind::kAck);
  EXPECT_TRUE(session.inSync());

  // b changes, a stays, c is new: only b and c go out. Then a disappears.
  out = {};
  config::v1::Bootstrap config;
  for (const char* name : {"a", "b", "c"}) {
    auto* cluster = config.add_clusters();
    cluster->set_name(name);
    cluster->add_endpoints()->set_url(std::string("http://") + name +
                                      (*name == 'b' ? ":81" : ":80"));
  }
  session.onSnapshot(BuildSnapshot(config, 2, {}), out);
  ASSERT_EQ(out.responses.size(), 1u);
  EXPECT_EQ(names(out.responses[0]), (Names{"b", "c"}));
  ack.set_response_nonce(out.responses[0].nonce());
  out = {};
  ASSERT_TRUE(session.onRequest(ack, out).ok());
  session.onSnapshot(clusters(3, {"b", "c"}, 81), out);
  ASSERT_EQ(out.responses.size(), 1u);
  EXPECT_EQ(names(out.responses[0]), (Names{"c"}));  // b was already :81
  EXPECT_EQ(removed(out.responses[0]), (Names{"a"}));
}

TEST(DeltaSessionTest, ReconnectWithInitialVersionsGetsOnlyTheDifference) {
  auto snapshot = clusters(1, {"a", "b", "c"});
  const auto& held = snapshot->find(kClusters)->resources;
  DeltaSession session("cp", snapshot);
  DeltaSession::Output out;
  DeltaDiscoveryRequest request;
  request.set_type_url(kClusters);
  // The client holds a and b at the current versions, c at an old one, and
  // d, which no longer exists.
  (*request.mutable_initial_resource_versions())["a"] = held.at("a").version;
  (*request.mutable_initial_resource_versions())["b"] = held.at("b").version;
  (*request.mutable_initial_resource_versions())["c"] = "0000000000000000";
  (*request.mutable_initial_resource_versions())["d"] = "1111111111111111";
  ASSERT_TRUE(session.onRequest(request, out).ok());
  ASSERT_EQ(out.responses.size(), 1u);
  EXPECT_EQ(names(out.responses[0]), (Names{"c"}));
  EXPECT_EQ(removed(out.responses[0]), (Names{"d"}));

  // Another type whose client is fully in sync still gets an (empty) answer.
  DeltaDiscoveryRequest listeners;
  listeners.set_type_url(kListeners);
  out = {};
  ASSERT_TRUE(session.onRequest(listeners, out).ok());
  ASSERT_EQ(out.responses.size(), 1u);
  EXPECT_EQ(out.responses[0].resources_size(), 0);
  EXPECT_EQ(out.responses[0].removed_resources_size(), 0);
}

TEST(DeltaSessionTest, ExplicitSubscriptionsStaleNonceAndNack) {
  DeltaSession session("cp", clusters(1, {"a", "b"}));
  DeltaSession::Output out;
  DeltaDiscoveryRequest request;
  request.set_type_url(kClusters);
  request.add_resource_names_subscribe("a");
  request.add_resource_names_subscribe("zz");
  ASSERT_TRUE(session.onRequest(request, out).ok());
  const DeltaDiscoveryResponse r1 = out.responses.at(0);
  EXPECT_EQ(names(r1), (Names{"a"}));
  EXPECT_EQ(removed(r1), (Names{"zz"}));  // subscribed but does not exist

  // While r1 is in flight, subscribe to b with a stale nonce: honoured, but
  // sent only after r1's ACK.
  out = {};
  DeltaDiscoveryRequest subscribe;
  subscribe.set_type_url(kClusters);
  subscribe.set_response_nonce("999");
  subscribe.add_resource_names_subscribe("b");
  ASSERT_TRUE(session.onRequest(subscribe, out).ok());
  EXPECT_TRUE(out.responses.empty());
  EXPECT_TRUE(out.events.empty());
  DeltaDiscoveryRequest ack;
  ack.set_type_url(kClusters);
  ack.set_response_nonce(r1.nonce());
  ASSERT_TRUE(session.onRequest(ack, out).ok());
  ASSERT_EQ(out.responses.size(), 1u);
  EXPECT_EQ(names(out.responses[0]), (Names{"b"}));
  EXPECT_TRUE(removed(out.responses[0]).empty());  // zz was told once
  const DeltaDiscoveryResponse r2 = out.responses[0];

  // Subscribing again to a held name resends it.
  out = {};
  ack.set_response_nonce(r2.nonce());
  ack.add_resource_names_subscribe("a");
  ASSERT_TRUE(session.onRequest(ack, out).ok());
  ASSERT_EQ(out.responses.size(), 1u);
  EXPECT_EQ(names(out.responses[0]), (Names{"a"}));

  // NACK it: kept out until it changes; unsubscribing b drops it silently.
  const DeltaDiscoveryResponse r3 = out.responses[0];
  out = {};
  DeltaDiscoveryRequest nack;
  nack.set_type_url(kClusters);
  nack.set_response_nonce(r3.nonce());
  nack.mutable_error_detail()->set_message("clusters[0]: bad");
  nack.add_resource_names_unsubscribe("b");
  ASSERT_TRUE(session.onRequest(nack, out).ok());
  EXPECT_TRUE(out.responses.empty());
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].kind, SessionEvent::Kind::kNack);
  EXPECT_EQ(out.events[0].message, "clusters[0]: bad");
  session.onSnapshot(clusters(2, {"a"}), out);
  EXPECT_TRUE(out.responses.empty());
}

}  // namespace
}  // namespace modgate::control_plane
