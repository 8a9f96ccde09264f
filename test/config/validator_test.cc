#include "source/config/validator.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "source/config/defaults.h"
#include "source/config/loader.h"

namespace modgate::config {
namespace {

using ::testing::HasSubstr;

// A valid config; each test breaks one thing.
constexpr std::string_view kBase = R"(listeners:
  - name: main
    address: 127.0.0.1:8080
cache:
  dir: /tmp/modgate-cache
clusters:
  - name: a
    endpoints:
      - url: https://a.example
  - name: b
    endpoints:
      - url: http://b.example:3000/go
routes:
  - name: r
    match:
      prefix: example.com/
    cluster: a
  - name: rest
    cluster: b
)";

v1::Bootstrap Base() {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml(kBase);
  EXPECT_TRUE(b.ok()) << b.status();
  ApplyDefaults(*b);
  return *b;
}

// The validation message for Base() modified by `mutate`.
template <typename F>
std::string ErrorsAfter(F mutate) {
  v1::Bootstrap b = Base();
  mutate(b);
  absl::Status status = Validate(b);
  if (!status.ok()) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  }
  return std::string(status.message());
}

TEST(ValidatorTest, BaseIsValid) {
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap&) {}), "");
}

TEST(ValidatorTest, AccessLog) {
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_listeners(0)->mutable_access_log()->set_path("stdout");
            }),
            "");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_listeners(0)->mutable_access_log(); }),
            "listeners[0].access_log.path: required (\"stdout\" or an absolute file path)");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_listeners(0)->mutable_access_log()->set_path("logs/a.log");
            }),
            "listeners[0].access_log.path: \"logs/a.log\" is neither \"stdout\" nor an absolute "
            "path");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              v1::AccessLog& log = *b.mutable_listeners(0)->mutable_access_log();
              log.set_path("/var/log/modgate.log");
              log.mutable_sample_percent()->set_value(0);
              log.mutable_max_pending_bytes()->set_value(100);
            }),
            "listeners[0].access_log.sample_percent: must be > 0 and <= 100\n"
            "listeners[0].access_log.max_pending_bytes: must be at least 4096");
}

TEST(ValidatorTest, ModulePolicyHideOnly) {
  auto policy = [](v1::Bootstrap& b) {
    v1::ModulePolicy& p = *b.add_module_policies();
    p.set_name("hide");
    p.set_action(v1::ModulePolicy::DENY);
    p.set_hide_only(true);
    return &p;
  };
  EXPECT_EQ(ErrorsAfter([&](v1::Bootstrap& b) { policy(b)->set_retracted(true); }), "");
  EXPECT_EQ(ErrorsAfter([&](v1::Bootstrap& b) { policy(b); }),
            "module_policies[0].hide_only: needs action DENY and a version condition (versions, "
            "pseudo_versions, retracted)");
  EXPECT_EQ(ErrorsAfter([&](v1::Bootstrap& b) {
              v1::ModulePolicy* p = policy(b);
              p->set_action(v1::ModulePolicy::ALLOW);
              p->add_versions("v1.0.0");
            }),
            "module_policies[0].hide_only: needs action DENY and a version condition (versions, "
            "pseudo_versions, retracted)");
}

TEST(ValidatorTest, Listeners) {
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.clear_listeners(); }),
            "listeners: at least one listener is required");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_listeners(0)->set_address("localhost"); }),
            "listeners[0].address: invalid address \"localhost\": expected host:port");
  EXPECT_EQ(
      ErrorsAfter([](v1::Bootstrap& b) { b.mutable_listeners(0)->set_address("::1:8080"); }),
      "listeners[0].address: invalid address \"::1:8080\": IPv6 addresses need brackets, e.g. "
      "[::1]:8080");
  EXPECT_EQ(
      ErrorsAfter([](v1::Bootstrap& b) { b.mutable_listeners(0)->set_address("h:0"); }),
      "listeners[0].address: invalid address \"h:0\": invalid port \"0\" (expected 1..65535)");
  EXPECT_EQ(
      ErrorsAfter([](v1::Bootstrap& b) { b.mutable_listeners(0)->set_address("1.2.3.256:80"); }),
      "listeners[0].address: invalid address \"1.2.3.256:80\": bad host \"1.2.3.256\"");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { *b.add_listeners() = b.listeners(0); }),
            "listeners[1].name: duplicate name \"main\" (also listeners[0])\n"
            "listeners[1].address: address 127.0.0.1:8080 is already used by listeners[0]");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_listeners(0)->set_name("Main"); }),
            "listeners[0].name: invalid name \"Main\" (allowed: a-z 0-9 _ . -)");
  EXPECT_EQ(ErrorsAfter(
                [](v1::Bootstrap& b) { b.mutable_admin()->set_address(b.listeners(0).address()); }),
            "admin.address: address 127.0.0.1:8080 is already used by listeners[0]");
}

TEST(ValidatorTest, Node) {
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_node()->set_id(""); }),
            "node.id: required");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_node()->set_id("pod 1"); }),
            "node.id: invalid \"pod 1\" (no whitespace or control characters)");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_node()->set_id(std::string(254, 'a')); }),
            "node.id: at most 253 characters");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_node()->set_cluster("ci\trunners"); }),
            "node.cluster: invalid \"ci\\trunners\" (no whitespace or control characters)");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              (*b.mutable_node()->mutable_labels())["team"] = "payments";
              (*b.mutable_node()->mutable_labels())["k8s.io/zone"] = "eu-1";
            }),
            "");
  EXPECT_EQ(
      ErrorsAfter([](v1::Bootstrap& b) { (*b.mutable_node()->mutable_labels())["bad key"] = "x"; }),
      "node.labels[\"bad key\"]: invalid label key (1..63 characters of A-Z a-z 0-9 . _ "
      "/ -)");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              (*b.mutable_node()->mutable_labels())["zone"] = std::string(64, 'x');
            }),
            "node.labels[\"zone\"]: at most 63 characters");
}

TEST(ValidatorTest, ControlPlane) {
  auto with = [](auto mutate) {
    return ErrorsAfter([&](v1::Bootstrap& b) {
      b.mutable_control_plane()->add_urls("http://127.0.0.1:18000");
      ApplyDefaults(b);
      mutate(*b.mutable_control_plane());
    });
  };
  EXPECT_EQ(with([](v1::ControlPlane&) {}), "");
  EXPECT_EQ(with([](v1::ControlPlane& cp) { cp.clear_urls(); }),
            "control_plane.urls: at least one URL is required");
  EXPECT_EQ(with([](v1::ControlPlane& cp) { cp.add_urls("grpc://cp:18000"); }),
            "control_plane.urls[1]: invalid URL \"grpc://cp:18000\": unsupported scheme \"grpc\" "
            "(expected http or https)");
  EXPECT_EQ(with([](v1::ControlPlane& cp) { cp.add_urls("https://cp.example/xds"); }),
            "control_plane.urls[1]: no path allowed (gRPC uses its own), got \"/xds\"");
  EXPECT_EQ(with([](v1::ControlPlane& cp) { cp.add_urls("http://127.0.0.1:18000"); }),
            "control_plane.urls[1]: duplicate URL");
  EXPECT_EQ(with([](v1::ControlPlane& cp) { cp.mutable_tls()->set_ca_file("/ca.pem"); }),
            "control_plane.tls: only allowed with https:// URLs");
  EXPECT_EQ(with([](v1::ControlPlane& cp) {
              cp.add_urls("https://cp.example");
              cp.mutable_tls()->set_ca_file("/ca.pem");
              cp.mutable_tls()->set_insecure_skip_verify(true);
            }),
            "control_plane.tls: ca_file and insecure_skip_verify are mutually exclusive");
  EXPECT_EQ(with([](v1::ControlPlane& cp) {
              cp.add_urls("https://cp.example");
              cp.mutable_tls()->mutable_client_certificate()->set_certificate_chain_file("/c.pem");
            }),
            "control_plane.tls.client_certificate.private_key_file: required");
  EXPECT_EQ(with([](v1::ControlPlane& cp) {
              cp.add_urls("https://cp.example");
              cp.mutable_tls()->mutable_client_certificate()->set_private_key_file("/c.key");
            }),
            "control_plane.tls.client_certificate.certificate_chain_file: required");
  EXPECT_EQ(with([](v1::ControlPlane& cp) {
              cp.add_urls("https://cp.example");
              cp.mutable_tls()->set_sni("cp.example");
              cp.mutable_tls()->mutable_client_certificate()->set_certificate_chain_file("/c.pem");
              cp.mutable_tls()->mutable_client_certificate()->set_private_key_file("/c.key");
            }),
            "");
  EXPECT_EQ(with([](v1::ControlPlane& cp) { cp.mutable_initial_fetch_timeout()->set_seconds(0); }),
            "");
  EXPECT_EQ(
      with([](v1::ControlPlane& cp) { cp.mutable_initial_fetch_timeout()->set_seconds(601); }),
      "control_plane.initial_fetch_timeout: must be 0 (wait) or at most 600s");
  EXPECT_EQ(with([](v1::ControlPlane& cp) { cp.mutable_connect_timeout()->set_seconds(61); }),
            "control_plane.connect_timeout: must be at most 60s");
  EXPECT_EQ(with([](v1::ControlPlane& cp) { cp.mutable_connect_timeout()->set_seconds(0); }),
            "control_plane.connect_timeout: must be positive");
  EXPECT_EQ(with([](v1::ControlPlane& cp) {
              cp.mutable_retry_max_interval()->set_seconds(0);
              cp.mutable_retry_max_interval()->set_nanos(1000);
            }),
            "control_plane.retry_max_interval: must be >= retry_base_interval");
}

TEST(ValidatorTest, AcceptsAddressForms) {
  for (const char* address : {"[::1]:8080", "[::]:1", "0.0.0.0:65535", "proxy.local:8080",
                              "my_service:80", "localhost:8080"}) {
    EXPECT_EQ(ErrorsAfter([&](v1::Bootstrap& b) { b.mutable_listeners(0)->set_address(address); }),
              "")
        << address;
  }
}

TEST(ValidatorTest, Clusters) {
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_clusters(1)->set_name("a"); }),
            "clusters[1].name: duplicate name \"a\" (also clusters[0])\n"
            "routes[1].cluster: unknown cluster \"b\"");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_clusters(0)->clear_endpoints(); }),
            "clusters[0].endpoints: at least one endpoint is required");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(0)->set_lb_policy(static_cast<v1::Cluster::LbPolicy>(42));
            }),
            "clusters[0].lb_policy: invalid value 42");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(0)->mutable_connect_timeout()->set_seconds(0);
            }),
            "clusters[0].connect_timeout: must be positive");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(1)->mutable_idle_timeout()->set_seconds(-1);
            }),
            "clusters[1].idle_timeout: must be positive");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(0)->mutable_max_connections_per_host()->set_value(0);
            }),
            "clusters[0].max_connections_per_host: must be 1..65535");
}

TEST(ValidatorTest, Endpoints) {
  auto url_error = [](const std::string& url) {
    return ErrorsAfter(
        [&](v1::Bootstrap& b) { b.mutable_clusters(1)->mutable_endpoints(0)->set_url(url); });
  };
  EXPECT_EQ(url_error("ftp://x"),
            "clusters[1].endpoints[0].url: invalid URL \"ftp://x\": unsupported scheme \"ftp\" "
            "(expected http, https or file)");
  EXPECT_EQ(url_error("proxy.golang.org"),
            "clusters[1].endpoints[0].url: invalid URL \"proxy.golang.org\": expected an absolute "
            "http://, https:// or file:/// URL");
  EXPECT_EQ(url_error("https://"),
            "clusters[1].endpoints[0].url: invalid URL \"https://\": missing host");
  EXPECT_EQ(url_error("https://u:p@host"),
            "clusters[1].endpoints[0].url: invalid URL \"https://u:p@host\": userinfo "
            "(user:password@) is not allowed");
  EXPECT_THAT(url_error("https://host/?x=1"), HasSubstr("a query (?...) is not allowed"));
  EXPECT_THAT(url_error("https://host/#x"), HasSubstr("a fragment (#...) is not allowed"));
  EXPECT_THAT(url_error("https://host:99999"), HasSubstr("invalid port \"99999\""));
  EXPECT_EQ(url_error(""), "clusters[1].endpoints[0].url: required");
  // A GOPROXY file tree on local disk.
  EXPECT_EQ(url_error("file:///srv/goproxy/"), "");
  EXPECT_EQ(url_error("file://host/srv"),
            "clusters[1].endpoints[0].url: invalid URL \"file://host/srv\": expected "
            "file:///absolute/directory (no host)");
  EXPECT_THAT(url_error("file:///srv/../etc"), HasSubstr("\".\" and \"..\" are not allowed"));
  EXPECT_THAT(url_error("file:///srv?x"), HasSubstr("a query, fragment or backslash"));

  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(0)->mutable_endpoints(0)->mutable_weight()->set_value(129);
            }),
            "clusters[0].endpoints[0].weight: must be 1..128");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(0)->mutable_endpoints(0)->mutable_weight()->set_value(0);
            }),
            "clusters[0].endpoints[0].weight: must be 1..128");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(0)->mutable_endpoints(0)->set_priority(128);
            }),
            "clusters[0].endpoints[0].priority: must be 0..127");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(1)->mutable_endpoints(0)->mutable_tls()->set_sni("b");
            }),
            "clusters[1].endpoints[0].tls: only allowed for https:// URLs");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              auto* tls = b.mutable_clusters(0)->mutable_endpoints(0)->mutable_tls();
              tls->set_ca_file("/ca.pem");
              tls->set_insecure_skip_verify(true);
            }),
            "clusters[0].endpoints[0].tls: ca_file and insecure_skip_verify are mutually "
            "exclusive");
}

TEST(ValidatorTest, Routes) {
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.clear_routes(); }),
            "routes: at least one route is required");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_routes(0)->set_cluster("zzz"); }),
            "routes[0].cluster: unknown cluster \"zzz\"");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_routes(0)->clear_action(); }),
            "routes[0]: an action is required: one of cluster, fallback, weighted_clusters, "
            "direct_response");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_routes(0)->clear_match(); }),
            "routes[0].match: matches every request, so routes[1] and later can never match");
  EXPECT_EQ(
      ErrorsAfter([](v1::Bootstrap& b) { b.mutable_routes(0)->mutable_match()->set_exact("x"); }),
      "routes[0].match: at most one of prefix and exact may be set");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_routes(0)->mutable_match()->set_patterns("*.corp,github.com/[a-");
            }),
            "routes[0].match.patterns: bad pattern \"github.com/[a-\": malformed range in "
            "character class");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              auto* match = b.mutable_routes(0)->mutable_match();
              match->add_kinds(v1::RouteMatch::MOD);
              match->add_kinds(v1::RouteMatch::MOD);
              match->add_kinds(v1::RouteMatch::KIND_UNSPECIFIED);
            }),
            "routes[0].match.kinds[1]: duplicate kind MOD\n"
            "routes[0].match.kinds[2]: must be one of LIST, INFO, MOD, ZIP, LATEST, SUMDB");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_routes(1)->mutable_direct_response()->set_status(99);
            }),
            "routes[1].direct_response.status: must be 200..599");
}

TEST(ValidatorTest, FallbackChains) {
  auto with_steps = [](std::vector<std::pair<std::string, v1::FallbackStep::On>> steps) {
    return ErrorsAfter([&](v1::Bootstrap& b) {
      auto* fallback = b.mutable_routes(1)->mutable_fallback();
      for (auto& [cluster, on] : steps) {
        auto* step = fallback->add_steps();
        step->set_cluster(cluster);
        step->set_on(on);
      }
    });
  };
  EXPECT_EQ(
      with_steps({{"a", v1::FallbackStep::NOT_FOUND}, {"b", v1::FallbackStep::ON_UNSPECIFIED}}),
      "");
  EXPECT_EQ(with_steps({}), "routes[1].fallback.steps: at least one step is required");
  EXPECT_EQ(with_steps(
                {{"a", v1::FallbackStep::ON_UNSPECIFIED}, {"b", v1::FallbackStep::ON_UNSPECIFIED}}),
            "routes[1].fallback.steps[0].on: required on all but the last step: NOT_FOUND or "
            "ANY_ERROR");
  EXPECT_EQ(with_steps({{"a", v1::FallbackStep::ANY_ERROR}, {"c", v1::FallbackStep::ANY_ERROR}}),
            "routes[1].fallback.steps[1].cluster: unknown cluster \"c\"\n"
            "routes[1].fallback.steps[1].on: must be unset on the last step (there is no next "
            "step)");
}

TEST(ValidatorTest, WeightedClusters) {
  auto with_weights = [](std::vector<std::pair<std::string, uint32_t>> weights) {
    return ErrorsAfter([&](v1::Bootstrap& b) {
      auto* weighted = b.mutable_routes(1)->mutable_weighted_clusters();
      for (auto& [cluster, weight] : weights) {
        auto* entry = weighted->add_clusters();
        entry->set_cluster(cluster);
        entry->set_weight(weight);
      }
    });
  };
  EXPECT_EQ(with_weights({{"a", 0}, {"b", 1}}), "");
  EXPECT_EQ(with_weights({}),
            "routes[1].weighted_clusters.clusters: at least one cluster is required");
  EXPECT_EQ(with_weights({{"a", 0}, {"b", 0}}),
            "routes[1].weighted_clusters.clusters: the weights must sum to more than 0");
  EXPECT_EQ(with_weights({{"a", 1}, {"a", 1}}),
            "routes[1].weighted_clusters.clusters[1].cluster: cluster \"a\" is listed twice");
  EXPECT_EQ(with_weights({{"nope", 1}}),
            "routes[1].weighted_clusters.clusters[0].cluster: unknown cluster \"nope\"");
}

// Route 1 as a stable/canary split with a rollout; `mutate` breaks it.
template <typename F>
std::string RolloutErrorsAfter(F mutate) {
  return ErrorsAfter([&](v1::Bootstrap& b) {
    v1::Route& route = *b.mutable_routes(1);
    auto* weighted = route.mutable_weighted_clusters();
    weighted->add_clusters()->set_cluster("a");
    weighted->mutable_clusters(0)->set_weight(1);
    weighted->add_clusters()->set_cluster("b");
    v1::Rollout& rollout = *route.mutable_rollout();
    rollout.set_canary_cluster("b");
    rollout.add_stages()->set_weight(10);
    rollout.add_stages()->set_weight(100);
    auto* gate = rollout.add_gates();
    gate->set_metric(v1::RolloutGate::ERROR_RATIO);
    gate->set_max(0.05);
    mutate(route);
  });
}

TEST(ValidatorTest, Rollout) {
  EXPECT_EQ(RolloutErrorsAfter([](v1::Route&) {}), "");
  EXPECT_EQ(RolloutErrorsAfter([](v1::Route& r) { r.clear_name(); }),
            "routes[1].name: required with a rollout");
  EXPECT_EQ(RolloutErrorsAfter([](v1::Route& r) { r.mutable_rollout()->set_canary_cluster("c"); }),
            "routes[1].rollout.canary_cluster: \"c\" is not one of the route's weighted_clusters");
  EXPECT_EQ(RolloutErrorsAfter([](v1::Route& r) { r.set_cluster("a"); }),
            "routes[1].rollout: requires weighted_clusters with exactly two clusters (stable and "
            "canary)");
  EXPECT_EQ(
      RolloutErrorsAfter(
          [](v1::Route& r) { r.mutable_rollout()->mutable_stages(1)->set_weight(5); }),
      "routes[1].rollout.stages[1].weight: must not be below the previous stage's 10 (clients only "
      "move from stable to canary)\n"
      "routes[1].rollout.stages[1].weight: the last stage must be 100");
  EXPECT_EQ(RolloutErrorsAfter([](v1::Route& r) { r.mutable_rollout()->clear_stages(); }),
            "routes[1].rollout.stages: at least one stage is required");
  EXPECT_EQ(
      RolloutErrorsAfter([](v1::Route& r) {
        r.mutable_rollout()->mutable_gates(0)->set_metric(v1::RolloutGate::METRIC_UNSPECIFIED);
      }),
      "routes[1].rollout.gates[0].metric: must be one of ERROR_RATIO, P99_LATENCY_MS, "
      "CONTENT_MISMATCH");
  EXPECT_EQ(RolloutErrorsAfter([](v1::Route& r) {
              r.mutable_rollout()->mutable_evaluation_interval()->set_seconds(120);
              r.mutable_rollout()->mutable_gates(0)->mutable_window()->set_seconds(60);
            }),
            "routes[1].rollout.gates[0].window: must be at least rollout.evaluation_interval");
  EXPECT_EQ(RolloutErrorsAfter([](v1::Route& r) {
              r.mutable_rollout()->mutable_evaluation_interval()->set_nanos(1000);
            }),
            "routes[1].rollout.evaluation_interval: must be 100ms..1h");
  EXPECT_EQ(RolloutErrorsAfter([](v1::Route& r) {
              r.mutable_rollout()->mutable_gates(0)->set_metric(v1::RolloutGate::CONTENT_MISMATCH);
              r.mutable_rollout()->mutable_gates(0)->set_relative_to_stable(true);
            }),
            "routes[1].rollout.gates[0].relative_to_stable: not available for CONTENT_MISMATCH");
  EXPECT_EQ(RolloutErrorsAfter([](v1::Route& r) {
              r.mutable_weighted_clusters()->mutable_stickiness()->set_header("bad header");
            }),
            "routes[1].weighted_clusters.stickiness.header: invalid header name \"bad header\"");
}

TEST(ValidatorTest, ShadowAndRouteNames) {
  EXPECT_EQ(RolloutErrorsAfter([](v1::Route& r) { r.mutable_shadow()->set_percent(10); }), "");
  EXPECT_EQ(RolloutErrorsAfter([](v1::Route& r) { r.mutable_shadow()->set_percent(101); }),
            "routes[1].shadow.percent: must be 0..100");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_routes(1)->mutable_shadow(); }),
            "routes[1].shadow.cluster: required on a route without a rollout");
  EXPECT_EQ(ErrorsAfter(
                [](v1::Bootstrap& b) { b.mutable_routes(1)->mutable_shadow()->set_cluster("zz"); }),
            "routes[1].shadow.cluster: unknown cluster \"zz\"");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_routes(1)->set_name("r"); }),
            "routes[1].name: duplicate name \"r\" (also routes[0])");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { (*b.mutable_runtime())["Bad"] = 1; }),
            "runtime[\"Bad\"]: invalid runtime key (dot-separated segments of a-z 0-9 _ -)");
}

TEST(ValidatorTest, RolloutFromYamlGetsDefaults) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml(R"(clusters:
  - {name: old, endpoints: [{url: "http://old.example"}]}
  - {name: new, endpoints: [{url: "http://new.example"}]}
routes:
  - name: public
    weighted_clusters:
      clusters: [{cluster: old, weight: 1}, {cluster: new}]
    rollout:
      canary_cluster: new
      stages: [{weight: 0, min_duration: 1m}, {weight: 100}]
      gates: [{metric: CONTENT_MISMATCH}]
    shadow: {percent: 5}
)");
  ASSERT_TRUE(b.ok()) << b.status();
  ApplyDefaults(*b);
  b->mutable_cache()->set_dir("/tmp/x");
  EXPECT_TRUE(Validate(*b).ok()) << Validate(*b);
  const v1::Route& route = b->routes(0);
  EXPECT_TRUE(route.weighted_clusters().stickiness().source_ip());
  EXPECT_EQ(route.weighted_clusters().pin_header(), "x-modgate-canary");
  EXPECT_EQ(route.rollout().evaluation_interval().seconds(), 10);
  EXPECT_TRUE(route.rollout().fallback_to_stable().value());
  EXPECT_EQ(route.rollout().gates(0).window().seconds(), 60);
  EXPECT_EQ(route.rollout().gates(0).min_requests().value(), 100u);
}

TEST(ValidatorTest, CacheSumDbsAndTopLevel) {
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_cache()->clear_dir(); }),
            "cache.dir: required (no default: neither XDG_CACHE_HOME nor HOME is set)");
  EXPECT_EQ(
      ErrorsAfter([](v1::Bootstrap& b) { b.mutable_cache()->mutable_list_ttl()->set_seconds(-5); }),
      "cache.list_ttl: must not be negative");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_cache()->mutable_hot_object_max_bytes()->set_value(1000);
              b.mutable_cache()->mutable_hot_cache_max_bytes()->set_value(10);
            }),
            "cache.hot_object_max_bytes: must not exceed cache.hot_cache_max_bytes");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.add_sumdbs()->set_name("sum.golang.org");
              b.add_sumdbs()->set_name("sum.golang.org");
              auto* bad = b.add_sumdbs();
              bad->set_name("https://sum.golang.org");
              bad->set_url("sum.golang.org");
            }),
            "sumdbs[1].name: duplicate name \"sum.golang.org\"\n"
            "sumdbs[2].name: invalid name \"https://sum.golang.org\" (expected a hostname such as "
            "sum.golang.org)\n"
            "sumdbs[2].url: invalid URL \"sum.golang.org\": expected an absolute http:// or "
            "https:// URL");
  // Verifier keys: syntax and key hash checked, named for the database,
  // one database at most; nosum is a GONOSUMDB glob list.
  constexpr char kFixtureKey[] =
      "sum.fixtures.test+a733dd48+AY9Q8ECTLcaRVtzVsWvVXm5cCGZQmET8PcGu0AS+E5Gw";
  EXPECT_EQ(ErrorsAfter([&](v1::Bootstrap& b) {
              auto* db = b.add_sumdbs();
              db->set_name("sum.fixtures.test");
              db->set_key(kFixtureKey);
              db->set_stream_while_verifying(true);
              b.set_nosum("*.corp.example.com,github.com/acme");
            }),
            "");
  EXPECT_EQ(ErrorsAfter([&](v1::Bootstrap& b) {
              auto* db = b.add_sumdbs();
              db->set_name("sum.fixtures.test");
              db->set_stream_while_verifying(true);
            }),
            "sumdbs[0].stream_while_verifying: needs key (nothing is verified without it)");
  EXPECT_EQ(
      ErrorsAfter([&](v1::Bootstrap& b) {
        auto* a = b.add_sumdbs();
        a->set_name("sum.fixtures.test");
        a->set_key(kFixtureKey);
        auto* other = b.add_sumdbs();
        other->set_name("sum.golang.org");
        other->set_key(kFixtureKey);
        auto* twice = b.add_sumdbs();
        twice->set_name("sum.fixtures.test2");
        twice->set_key("sum.fixtures.test2+a733dd48+AY9Q8ECTLcaRVtzVsWvVXm5cCGZQmET8PcGu0AS+E5Gw");
        auto* bad = b.add_sumdbs();
        bad->set_name("sum.example.com");
        bad->set_key("sum.example.com+0000+AAAA");
        b.set_nosum("github.com/[a");
      }),
      "sumdbs[1].key: key of \"sum.fixtures.test\", not of \"sum.golang.org\"\n"
      "sumdbs[2].key: malformed verifier key: key hash does not match the key\n"
      "sumdbs[3].key: malformed verifier key: key hash must be 8 hex digits\n"
      "nosum: bad pattern \"github.com/[a\": malformed character class");
  EXPECT_EQ(ErrorsAfter([&](v1::Bootstrap& b) {
              auto* a = b.add_sumdbs();
              a->set_name("sum.fixtures.test");
              a->set_key(kFixtureKey);
              auto* c = b.add_sumdbs();
              c->set_name("sum.golang.org");
              c->set_key("sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8");
            }),
            "sumdbs[1].key: only one checksum database verifies modules (sumdbs[0].key is set)");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.set_log_level("verbose"); }),
            "log_level: invalid level \"verbose\" (expected trace, debug, info, warn, error or "
            "off)");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.set_concurrency(5000); }),
            "concurrency: must be 0..1024 (0 = one per core)");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_limits()->mutable_max_request_headers_kb()->set_value(0);
              b.mutable_limits()->mutable_request_timeout()->set_seconds(0);
              b.mutable_limits()->mutable_drain_timeout()->set_seconds(-1);
            }),
            "limits.max_request_headers_kb: must be 1..8192\n"
            "limits.request_timeout: must be positive\n"
            "limits.drain_timeout: must be positive");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              v1::Http2Protection& http2 = *b.mutable_limits()->mutable_http2();
              http2.mutable_max_outbound_control_frames()->set_value(0);
              http2.mutable_max_settings_entries()->set_value(1001);
              http2.mutable_max_continuation_frames()->set_value(0);
              http2.mutable_stream_reset_burst()->set_value(0);
              http2.mutable_stream_resets_per_second()->set_value(2000000);
            }),
            "limits.http2.max_outbound_control_frames: must be 1..100000\n"
            "limits.http2.max_settings_entries: must be 1..1000\n"
            "limits.http2.max_continuation_frames: must be 1..1000\n"
            "limits.http2.stream_reset_burst: must be 1..1000000\n"
            "limits.http2.stream_resets_per_second: must be 1..1000000");
  // Set explicitly to the defaults: valid.
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              v1::Http2Protection& http2 = *b.mutable_limits()->mutable_http2();
              http2.mutable_max_outbound_control_frames()->set_value(1000);
              http2.mutable_stream_reset_burst()->set_value(200);
            }),
            "");
}

TEST(ValidatorTest, ReportsOnlyTheFirstFew) {
  // Base's catch-all routes[1] makes the added routes unreachable (1 error),
  // and each names a missing cluster (15 errors).
  std::string errors = ErrorsAfter([](v1::Bootstrap& b) {
    for (int i = 0; i < 15; ++i) {
      v1::Route* route = b.add_routes();
      route->mutable_match()->set_prefix("x/");
      route->set_cluster("missing");
    }
  });
  EXPECT_THAT(errors, HasSubstr("\n(and 6 more errors)"));
  EXPECT_EQ(std::count(errors.begin(), errors.end(), '\n'), 10);
}

TEST(ValidatorTest, UndefaultedConfigNamesMissingFields) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml(kBase);
  ASSERT_TRUE(b.ok());
  absl::Status status = Validate(*b);
  EXPECT_THAT(status.message(), HasSubstr("admin.address: required"));
  EXPECT_THAT(status.message(), HasSubstr("clusters[0].connect_timeout: required"));
}

// A health check that passes validation, to break one field at a time.
void ValidHealthCheck(v1::Cluster& cluster) {
  v1::HealthCheck& hc = *cluster.mutable_health_check();
  hc.set_path("/healthz");
  hc.mutable_interval()->set_seconds(5);
  hc.mutable_timeout()->set_seconds(1);
  hc.mutable_unhealthy_threshold()->set_value(3);
  hc.mutable_healthy_threshold()->set_value(2);
  hc.mutable_no_traffic_interval()->set_seconds(60);
}

template <typename F>
std::string HealthCheckErrors(F mutate) {
  return ErrorsAfter([&](v1::Bootstrap& b) {
    ValidHealthCheck(*b.mutable_clusters(0));
    mutate(*b.mutable_clusters(0)->mutable_health_check());
  });
}

TEST(ValidatorTest, HealthCheck) {
  EXPECT_EQ(HealthCheckErrors([](v1::HealthCheck&) {}), "");
  EXPECT_EQ(HealthCheckErrors([](v1::HealthCheck& hc) { hc.clear_path(); }),
            "clusters[0].health_check.path: required");
  EXPECT_EQ(HealthCheckErrors([](v1::HealthCheck& hc) { hc.set_path("healthz"); }),
            "clusters[0].health_check.path: invalid path \"healthz\" (must start with \"/\"; no "
            "spaces, control characters or \"#\")");
  EXPECT_EQ(HealthCheckErrors([](v1::HealthCheck& hc) { hc.set_path("/a b"); }),
            "clusters[0].health_check.path: invalid path \"/a b\" (must start with \"/\"; no "
            "spaces, control characters or \"#\")");
  EXPECT_EQ(HealthCheckErrors([](v1::HealthCheck& hc) { hc.set_path("/sumdb/x/supported?a=1"); }),
            "");
  EXPECT_EQ(HealthCheckErrors([](v1::HealthCheck& hc) { hc.set_host("athens.internal:3000"); }),
            "");
  EXPECT_EQ(HealthCheckErrors([](v1::HealthCheck& hc) { hc.set_host("athens.internal"); }), "");
  EXPECT_EQ(HealthCheckErrors([](v1::HealthCheck& hc) { hc.set_host("http://athens"); }),
            "clusters[0].health_check.host: invalid host \"http://athens\" (expected a hostname or "
            "host:port)");
  EXPECT_EQ(HealthCheckErrors([](v1::HealthCheck& hc) {
              hc.clear_interval();
              hc.clear_timeout();
              hc.clear_unhealthy_threshold();
              hc.clear_healthy_threshold();
            }),
            "clusters[0].health_check.interval: required\n"
            "clusters[0].health_check.timeout: required\n"
            "clusters[0].health_check.unhealthy_threshold: required\n"
            "clusters[0].health_check.healthy_threshold: required");
  EXPECT_EQ(HealthCheckErrors([](v1::HealthCheck& hc) {
              hc.mutable_interval()->set_seconds(0);
              hc.mutable_timeout()->set_seconds(-1);
            }),
            "clusters[0].health_check.interval: must be positive\n"
            "clusters[0].health_check.timeout: must be positive");
  EXPECT_EQ(HealthCheckErrors([](v1::HealthCheck& hc) {
              hc.mutable_interval()->set_seconds(1);
              hc.mutable_timeout()->set_seconds(1);
              hc.mutable_timeout()->set_nanos(1);
            }),
            "clusters[0].health_check.timeout: must not exceed interval");
  EXPECT_EQ(HealthCheckErrors([](v1::HealthCheck& hc) {
              hc.mutable_timeout()->set_seconds(5);  // == interval is fine
            }),
            "");
  EXPECT_EQ(HealthCheckErrors([](v1::HealthCheck& hc) {
              hc.mutable_initial_jitter()->set_seconds(-1);
              hc.mutable_interval_jitter()->set_nanos(-1);
              hc.set_interval_jitter_percent(101);
            }),
            "clusters[0].health_check.initial_jitter: must not be negative\n"
            "clusters[0].health_check.interval_jitter: must not be negative\n"
            "clusters[0].health_check.interval_jitter_percent: must be 0..100");
  EXPECT_EQ(HealthCheckErrors([](v1::HealthCheck& hc) {
              hc.mutable_unhealthy_threshold()->set_value(0);
              hc.mutable_healthy_threshold()->set_value(1001);
            }),
            "clusters[0].health_check.unhealthy_threshold: must be 1..1000\n"
            "clusters[0].health_check.healthy_threshold: must be 1..1000");
  EXPECT_EQ(HealthCheckErrors([](v1::HealthCheck& hc) {
              hc.add_expected_statuses()->set_start(200);  // single code
              auto* ok = hc.add_expected_statuses();
              ok->set_start(200);
              ok->set_end(600);
              hc.add_expected_statuses()->set_start(99);
              auto* empty = hc.add_expected_statuses();
              empty->set_start(300);
              empty->set_end(300);
              auto* high = hc.add_expected_statuses();
              high->set_start(500);
              high->set_end(601);
            }),
            "clusters[0].health_check.expected_statuses[2].start: must be 100..599\n"
            "clusters[0].health_check.expected_statuses[3].end: must be 301..600 (the range is "
            "[start, end)) or 0 for the single code start\n"
            "clusters[0].health_check.expected_statuses[4].end: must be 501..600 (the range is "
            "[start, end)) or 0 for the single code start");
  EXPECT_EQ(HealthCheckErrors([](v1::HealthCheck& hc) {
              hc.mutable_unhealthy_interval()->set_seconds(0);
              hc.mutable_healthy_edge_interval()->set_seconds(-1);
              hc.mutable_unhealthy_edge_interval()->set_seconds(0);
              hc.mutable_no_traffic_interval()->set_seconds(0);
            }),
            "clusters[0].health_check.unhealthy_interval: must be positive\n"
            "clusters[0].health_check.healthy_edge_interval: must be positive\n"
            "clusters[0].health_check.unhealthy_edge_interval: must be positive\n"
            "clusters[0].health_check.no_traffic_interval: must be positive");
}

TEST(ValidatorTest, EndpointHealthCheckPath) {
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(0)->mutable_endpoints(0)->set_health_check_path("/ready");
            }),
            "clusters[0].endpoints[0].health_check_path: only allowed when the cluster has a "
            "health_check");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              ValidHealthCheck(*b.mutable_clusters(0));
              b.mutable_clusters(0)->mutable_endpoints(0)->set_health_check_path("/ready");
            }),
            "");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              ValidHealthCheck(*b.mutable_clusters(0));
              b.mutable_clusters(0)->mutable_endpoints(0)->set_health_check_path("ready");
            }),
            "clusters[0].endpoints[0].health_check_path: invalid path \"ready\" (must start with "
            "\"/\"; no spaces, control characters or \"#\")");
}

TEST(ValidatorTest, PrioritiesAreContiguous) {
  auto with_priorities = [](std::vector<uint32_t> priorities) {
    return ErrorsAfter([&](v1::Bootstrap& b) {
      v1::Cluster& cluster = *b.mutable_clusters(0);
      cluster.clear_endpoints();
      for (uint32_t priority : priorities) {
        v1::Endpoint* endpoint = cluster.add_endpoints();
        endpoint->set_url("https://x.example");
        endpoint->set_priority(priority);
      }
    });
  };
  EXPECT_EQ(with_priorities({0, 0, 1, 2}), "");
  EXPECT_EQ(with_priorities({2, 1, 0}), "");
  EXPECT_EQ(with_priorities({1}),
            "clusters[0].endpoints[0].priority: priority 1 is used but priority 0 has no "
            "endpoints (levels must be contiguous from 0)");
  EXPECT_EQ(with_priorities({0, 0, 2, 3}),
            "clusters[0].endpoints[2].priority: priority 2 is used but priority 1 has no "
            "endpoints (levels must be contiguous from 0)");
}

TEST(ValidatorTest, OutlierDetection) {
  auto errors = [](auto mutate) {
    return ErrorsAfter([&](v1::Bootstrap& b) {
      v1::OutlierDetection& od = *b.mutable_clusters(1)->mutable_outlier_detection();
      od.mutable_interval()->set_seconds(10);
      od.mutable_base_ejection_time()->set_seconds(30);
      od.mutable_max_ejection_time()->set_seconds(300);
      mutate(od);
    });
  };
  EXPECT_EQ(errors([](v1::OutlierDetection&) {}), "");
  EXPECT_EQ(errors([](v1::OutlierDetection& od) {
              od.mutable_consecutive_5xx()->set_value(0);
              od.mutable_consecutive_gateway_failure()->set_value(0);
              od.mutable_consecutive_local_origin_failure()->set_value(0);
            }),
            "clusters[1].outlier_detection.consecutive_5xx: must be at least 1\n"
            "clusters[1].outlier_detection.consecutive_gateway_failure: must be at least 1\n"
            "clusters[1].outlier_detection.consecutive_local_origin_failure: must be at least 1");
  EXPECT_EQ(errors([](v1::OutlierDetection& od) {
              od.mutable_max_ejection_percent()->set_value(101);
              od.mutable_enforcing_consecutive_5xx()->set_value(101);
              od.mutable_enforcing_consecutive_gateway_failure()->set_value(200);
              od.mutable_enforcing_consecutive_local_origin_failure()->set_value(1000);
            }),
            "clusters[1].outlier_detection.max_ejection_percent: must be 0..100\n"
            "clusters[1].outlier_detection.enforcing_consecutive_5xx: must be 0..100\n"
            "clusters[1].outlier_detection.enforcing_consecutive_gateway_failure: must be 0..100\n"
            "clusters[1].outlier_detection.enforcing_consecutive_local_origin_failure: must be "
            "0..100");
  EXPECT_EQ(errors([](v1::OutlierDetection& od) {
              od.mutable_max_ejection_percent()->set_value(0);
              od.mutable_enforcing_consecutive_5xx()->set_value(0);
            }),
            "");
  EXPECT_EQ(errors([](v1::OutlierDetection& od) {
              od.mutable_interval()->set_seconds(0);
              od.clear_base_ejection_time();
            }),
            "clusters[1].outlier_detection.interval: must be positive\n"
            "clusters[1].outlier_detection.base_ejection_time: required");
  EXPECT_EQ(
      errors([](v1::OutlierDetection& od) { od.mutable_base_ejection_time()->set_seconds(301); }),
      "clusters[1].outlier_detection.max_ejection_time: must not be less than "
      "base_ejection_time");
}

TEST(ValidatorTest, CircuitBreakers) {
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              v1::CircuitBreakers& cb = *b.mutable_clusters(0)->mutable_circuit_breakers();
              cb.mutable_max_connections()->set_value(0);
              cb.mutable_max_pending_requests()->set_value(0);  // fail fast: fine
              cb.mutable_max_requests()->set_value(0);
              cb.mutable_max_retries()->set_value(0);  // no concurrent retries: fine
              cb.mutable_retry_budget()->mutable_budget_percent()->set_value(100.5);
            }),
            "clusters[0].circuit_breakers.max_connections: must be at least 1\n"
            "clusters[0].circuit_breakers.max_requests: must be at least 1\n"
            "clusters[0].circuit_breakers.retry_budget.budget_percent: must be 0..100");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(0)
                  ->mutable_circuit_breakers()
                  ->mutable_retry_budget()
                  ->mutable_budget_percent()
                  ->set_value(std::nan(""));
            }),
            "clusters[0].circuit_breakers.retry_budget.budget_percent: must be 0..100");
}

TEST(ValidatorTest, RetryPolicy) {
  auto errors = [](auto mutate) {
    return ErrorsAfter([&](v1::Bootstrap& b) {
      v1::RetryPolicy& retry = *b.mutable_clusters(0)->mutable_retry_policy();
      retry.add_retry_on(v1::RetryPolicy::CONNECT_FAILURE);
      mutate(retry);
    });
  };
  EXPECT_EQ(errors([](v1::RetryPolicy&) {}), "");
  EXPECT_EQ(errors([](v1::RetryPolicy& r) { r.clear_retry_on(); }),
            "clusters[0].retry_policy.retry_on: at least one condition is required when "
            "num_retries > 0 (an empty list never retries), e.g. [CONNECT_FAILURE, RESET, "
            "GATEWAY_ERROR]");
  EXPECT_EQ(errors([](v1::RetryPolicy& r) {
              r.clear_retry_on();
              r.mutable_num_retries()->set_value(0);
            }),
            "");
  EXPECT_EQ(errors([](v1::RetryPolicy& r) {
              r.add_retry_on(v1::RetryPolicy::CONNECT_FAILURE);
              r.add_retry_on(v1::RetryPolicy::RETRY_ON_UNSPECIFIED);
            }),
            "clusters[0].retry_policy.retry_on[1]: duplicate condition CONNECT_FAILURE\n"
            "clusters[0].retry_policy.retry_on[2]: must be one of FIVE_XX (\"5xx\"), "
            "GATEWAY_ERROR, RESET, CONNECT_FAILURE, REFUSED_STREAM");
  EXPECT_EQ(errors([](v1::RetryPolicy& r) { r.mutable_num_retries()->set_value(101); }),
            "clusters[0].retry_policy.num_retries: must be 0..100");
  EXPECT_EQ(errors([](v1::RetryPolicy& r) { r.mutable_per_try_timeout()->set_seconds(-1); }),
            "clusters[0].retry_policy.per_try_timeout: must not be negative");
  EXPECT_EQ(errors([](v1::RetryPolicy& r) { r.mutable_per_try_timeout()->set_seconds(0); }), "");
  EXPECT_EQ(errors([](v1::RetryPolicy& r) {
              r.mutable_retry_back_off()->mutable_max_interval()->set_seconds(1);
            }),
            "clusters[0].retry_policy.retry_back_off.base_interval: required");
  EXPECT_EQ(errors([](v1::RetryPolicy& r) {
              r.mutable_retry_back_off()->mutable_base_interval()->set_seconds(2);
              r.mutable_retry_back_off()->mutable_max_interval()->set_seconds(1);
            }),
            "clusters[0].retry_policy.retry_back_off.max_interval: must not be less than "
            "base_interval");
  EXPECT_EQ(errors([](v1::RetryPolicy& r) {
              r.mutable_retry_back_off()->mutable_base_interval()->set_seconds(0);
              r.mutable_retry_back_off()->mutable_max_interval()->set_seconds(0);
            }),
            "clusters[0].retry_policy.retry_back_off.base_interval: must be positive\n"
            "clusters[0].retry_policy.retry_back_off.max_interval: must be positive");
  EXPECT_EQ(errors([](v1::RetryPolicy& r) {
              r.mutable_host_selection_retry_max_attempts()->set_value(0);
            }),
            "clusters[0].retry_policy.host_selection_retry_max_attempts: must be 1..100");
}

TEST(ValidatorTest, CommonLbConfig) {
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              v1::CommonLbConfig& common = *b.mutable_clusters(0)->mutable_common_lb_config();
              common.mutable_healthy_panic_threshold()->set_value(-1);
              common.mutable_overprovisioning_factor()->set_value(99);
            }),
            "clusters[0].common_lb_config.healthy_panic_threshold: must be 0..100\n"
            "clusters[0].common_lb_config.overprovisioning_factor: must be 100..10000");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              v1::CommonLbConfig& common = *b.mutable_clusters(0)->mutable_common_lb_config();
              common.mutable_healthy_panic_threshold()->set_value(0);  // disables panic mode
              common.mutable_overprovisioning_factor()->set_value(100);
            }),
            "");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(0)
                  ->mutable_common_lb_config()
                  ->mutable_consistent_hashing_lb_config()
                  ->mutable_hash_balance_factor()
                  ->set_value(150);
            }),
            "clusters[0].common_lb_config.consistent_hashing_lb_config: only applies to "
            "lb_policy RING_HASH or MAGLEV");
  auto balance = [](uint32_t factor) {
    return ErrorsAfter([&](v1::Bootstrap& b) {
      b.mutable_clusters(0)->set_lb_policy(v1::Cluster::MAGLEV);
      b.mutable_clusters(0)
          ->mutable_common_lb_config()
          ->mutable_consistent_hashing_lb_config()
          ->mutable_hash_balance_factor()
          ->set_value(factor);
    });
  };
  EXPECT_EQ(balance(0), "");
  EXPECT_EQ(balance(100), "");
  EXPECT_EQ(balance(99),
            "clusters[0].common_lb_config.consistent_hashing_lb_config.hash_balance_factor: must "
            "be 0 (unbounded) or at least 100");
}

TEST(ValidatorTest, PolicyLbConfigs) {
  auto with = [](v1::Cluster::LbPolicy policy, auto mutate) {
    return ErrorsAfter([&](v1::Bootstrap& b) {
      b.mutable_clusters(0)->set_lb_policy(policy);
      mutate(*b.mutable_clusters(0));
    });
  };
  EXPECT_EQ(with(v1::Cluster::ROUND_ROBIN, [](v1::Cluster& c) { c.mutable_ring_hash_lb_config(); }),
            "clusters[0].ring_hash_lb_config: only applies to lb_policy RING_HASH (lb_policy is "
            "ROUND_ROBIN)");
  EXPECT_EQ(with(v1::Cluster::RING_HASH, [](v1::Cluster& c) { c.mutable_maglev_lb_config(); }),
            "clusters[0].maglev_lb_config: only applies to lb_policy MAGLEV (lb_policy is "
            "RING_HASH)");
  EXPECT_EQ(with(v1::Cluster::MAGLEV, [](v1::Cluster& c) { c.mutable_least_request_lb_config(); }),
            "clusters[0].least_request_lb_config: only applies to lb_policy LEAST_REQUEST "
            "(lb_policy is MAGLEV)");

  EXPECT_EQ(with(v1::Cluster::RING_HASH,
                 [](v1::Cluster& c) {
                   auto* ring = c.mutable_ring_hash_lb_config();
                   ring->mutable_minimum_ring_size()->set_value(1);
                   ring->mutable_maximum_ring_size()->set_value(8388608);
                 }),
            "");
  EXPECT_EQ(with(v1::Cluster::RING_HASH,
                 [](v1::Cluster& c) {
                   auto* ring = c.mutable_ring_hash_lb_config();
                   ring->mutable_minimum_ring_size()->set_value(0);
                   ring->mutable_maximum_ring_size()->set_value(8388609);
                 }),
            "clusters[0].ring_hash_lb_config.minimum_ring_size: must be 1..8388608\n"
            "clusters[0].ring_hash_lb_config.maximum_ring_size: must be 1..8388608");
  EXPECT_EQ(with(v1::Cluster::RING_HASH,
                 [](v1::Cluster& c) {
                   c.mutable_ring_hash_lb_config()->mutable_maximum_ring_size()->set_value(512);
                 }),
            "clusters[0].ring_hash_lb_config.minimum_ring_size: must not exceed maximum_ring_size "
            "(512)");

  auto maglev = [&](uint64_t size) {
    return with(v1::Cluster::MAGLEV, [&](v1::Cluster& c) {
      c.mutable_maglev_lb_config()->mutable_table_size()->set_value(size);
    });
  };
  EXPECT_EQ(maglev(65537), "");
  EXPECT_EQ(maglev(2), "");
  EXPECT_EQ(maglev(4999999), "");  // the largest prime below the limit
  EXPECT_EQ(maglev(65536),
            "clusters[0].maglev_lb_config.table_size: must be a prime below 5000011 (e.g. 65537 "
            "or 655373), got 65536");
  EXPECT_THAT(maglev(1), HasSubstr("must be a prime"));
  EXPECT_THAT(maglev(5000011), HasSubstr("must be a prime below 5000011"));

  auto least = [&](uint32_t n) {
    return with(v1::Cluster::LEAST_REQUEST, [&](v1::Cluster& c) {
      c.mutable_least_request_lb_config()->mutable_choice_count()->set_value(n);
    });
  };
  EXPECT_EQ(least(2), "");
  EXPECT_EQ(least(1), "clusters[0].least_request_lb_config.choice_count: must be 2..100");
}

TEST(ValidatorTest, RouteTimeoutHeadersAndHashPolicy) {
  EXPECT_EQ(
      ErrorsAfter([](v1::Bootstrap& b) { b.mutable_routes(0)->mutable_timeout()->set_seconds(0); }),
      "");
  EXPECT_EQ(ErrorsAfter(
                [](v1::Bootstrap& b) { b.mutable_routes(0)->mutable_timeout()->set_seconds(-1); }),
            "routes[0].timeout: must not be negative");

  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              auto* match = b.mutable_routes(0)->mutable_match();
              match->add_headers()->set_name("x-ok");
              auto* bad_name = match->add_headers();
              bad_name->set_name("x bad");
              match->add_headers();
              auto* bad_value = match->add_headers();
              bad_value->set_name("x-v");
              bad_value->set_exact_match("a\r\nInjected: 1");
            }),
            "routes[0].match.headers[1].name: invalid header name \"x bad\"\n"
            "routes[0].match.headers[2].name: required\n"
            "routes[0].match.headers[3].exact_match: must not contain CR, LF or NUL");
  // A header condition makes a match no longer a catch-all.
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_routes(0)->clear_match();
              b.mutable_routes(0)->mutable_match()->add_headers()->set_name("x-canary");
            }),
            "");

  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              v1::Route& route = *b.mutable_routes(1);
              route.add_hash_policy()->mutable_module_path();
              route.add_hash_policy()->mutable_header()->set_header_name("x-client");
              route.add_hash_policy()->mutable_connection_properties()->set_source_ip(true);
            }),
            "");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              v1::Route& route = *b.mutable_routes(1);
              route.add_hash_policy();
              route.add_hash_policy()->mutable_header();
              route.add_hash_policy()->mutable_header()->set_header_name("a:b");
              route.add_hash_policy()->mutable_connection_properties();
            }),
            "routes[1].hash_policy[0]: one of module_path, header, connection_properties is "
            "required\n"
            "routes[1].hash_policy[1].header.header_name: required\n"
            "routes[1].hash_policy[2].header.header_name: invalid header name \"a:b\"\n"
            "routes[1].hash_policy[3].connection_properties.source_ip: must be true");
}

TEST(ValidatorTest, RuntimeKeyPrefix) {
  auto with_prefix = [](const std::string& prefix) {
    return ErrorsAfter([&](v1::Bootstrap& b) {
      auto* weighted = b.mutable_routes(1)->mutable_weighted_clusters();
      auto* entry = weighted->add_clusters();
      entry->set_cluster("b");
      entry->set_weight(1);
      weighted->set_runtime_key_prefix(prefix);
    });
  };
  EXPECT_EQ(with_prefix(""), "");
  EXPECT_EQ(with_prefix("routes.public.canary-1"), "");
  for (const char* bad : {".a", "a.", "a..b", "Routes.x", "a b"}) {
    EXPECT_EQ(with_prefix(bad), absl::StrCat("routes[1].weighted_clusters.runtime_key_prefix: "
                                             "invalid runtime key \"",
                                             bad, "\" (dot-separated segments of a-z 0-9 _ -)"));
  }
}

}  // namespace
}  // namespace modgate::config
