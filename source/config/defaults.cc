#include "source/config/defaults.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace modgate::config {
namespace {

// Sets `seconds` unless `has` says the field is set. Takes the mutable
// accessor as a callable: calling mutable_x() would itself mark x as set.
template <typename Mutable>
void DefaultDuration(bool has, Mutable mutable_duration, int64_t seconds) {
  if (!has) mutable_duration()->set_seconds(seconds);
}

void ApplyCacheDefaults(v1::Cache& cache) {
  if (cache.dir().empty()) {
    cache.set_dir(DefaultCacheDir(std::getenv("XDG_CACHE_HOME"), std::getenv("HOME")));
  }
  if (!cache.has_max_bytes()) cache.mutable_max_bytes()->set_value(kDefaultCacheMaxBytes);
  DefaultDuration(
      cache.has_list_ttl(), [&] { return cache.mutable_list_ttl(); }, kDefaultCacheTtlSeconds);
  DefaultDuration(
      cache.has_latest_ttl(), [&] { return cache.mutable_latest_ttl(); }, kDefaultCacheTtlSeconds);
  DefaultDuration(
      cache.has_negative_ttl(), [&] { return cache.mutable_negative_ttl(); },
      kDefaultCacheTtlSeconds);
  DefaultDuration(
      cache.has_sumdb_latest_ttl(), [&] { return cache.mutable_sumdb_latest_ttl(); },
      kDefaultCacheTtlSeconds);
  // An hour: proxy.golang.org's own list answers can be half an hour old,
  // and one client seeing the previous list while the refresh runs beats
  // every client of a CI fleet waiting on the upstream.
  DefaultDuration(
      cache.has_stale_while_revalidate(), [&] { return cache.mutable_stale_while_revalidate(); },
      3600);
  if (!cache.has_serve_stale()) cache.mutable_serve_stale()->set_value(true);
  if (!cache.has_hot_object_max_bytes()) {
    cache.mutable_hot_object_max_bytes()->set_value(kDefaultHotObjectMaxBytes);
  }
  if (!cache.has_hot_cache_max_bytes()) {
    cache.mutable_hot_cache_max_bytes()->set_value(kDefaultHotCacheMaxBytes);
  }
}

// The wrapper's value unless `has`, then `value`.
template <typename Mutable, typename T>
void DefaultWrapper(bool has, Mutable mutable_wrapper, T value) {
  if (!has) mutable_wrapper()->set_value(value);
}

void SetMillis(google::protobuf::Duration& d, int64_t millis) {
  d.set_seconds(millis / 1000);
  d.set_nanos(static_cast<int32_t>((millis % 1000) * 1000000));
}

absl::Duration ToAbsl(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

void ToProto(absl::Duration d, google::protobuf::Duration& out) {
  int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
}

void ApplyHealthCheckDefaults(v1::HealthCheck& hc) {
  if (hc.expected_statuses().empty()) hc.add_expected_statuses()->set_start(kDefaultHealthyStatus);
  for (v1::StatusRange& range : *hc.mutable_expected_statuses()) {
    if (range.end() == 0 && range.start() != 0) range.set_end(range.start() + 1);
  }
  DefaultDuration(
      hc.has_no_traffic_interval(), [&] { return hc.mutable_no_traffic_interval(); },
      kDefaultHealthCheckNoTrafficIntervalSeconds);
  // The remaining intervals default to others; without `interval` (which
  // the validator requires) there is nothing to derive them from.
  if (!hc.has_interval()) return;
  if (!hc.has_unhealthy_interval()) *hc.mutable_unhealthy_interval() = hc.interval();
  if (!hc.has_healthy_edge_interval()) *hc.mutable_healthy_edge_interval() = hc.interval();
  if (!hc.has_unhealthy_edge_interval()) {
    *hc.mutable_unhealthy_edge_interval() = hc.unhealthy_interval();
  }
}

void ApplyOutlierDetectionDefaults(v1::OutlierDetection& od) {
  DefaultWrapper(
      od.has_consecutive_5xx(), [&] { return od.mutable_consecutive_5xx(); },
      kDefaultOutlierConsecutive5xx);
  DefaultDuration(
      od.has_interval(), [&] { return od.mutable_interval(); }, kDefaultOutlierIntervalSeconds);
  DefaultDuration(
      od.has_base_ejection_time(), [&] { return od.mutable_base_ejection_time(); },
      kDefaultOutlierBaseEjectionTimeSeconds);
  DefaultWrapper(
      od.has_max_ejection_percent(), [&] { return od.mutable_max_ejection_percent(); },
      kDefaultOutlierMaxEjectionPercent);
  DefaultWrapper(
      od.has_enforcing_consecutive_5xx(), [&] { return od.mutable_enforcing_consecutive_5xx(); },
      kDefaultOutlierEnforcingConsecutive5xx);
  DefaultWrapper(
      od.has_consecutive_gateway_failure(),
      [&] { return od.mutable_consecutive_gateway_failure(); },
      kDefaultOutlierConsecutiveGatewayFailure);
  DefaultWrapper(
      od.has_enforcing_consecutive_gateway_failure(),
      [&] { return od.mutable_enforcing_consecutive_gateway_failure(); },
      kDefaultOutlierEnforcingConsecutiveGatewayFailure);
  DefaultWrapper(
      od.has_consecutive_local_origin_failure(),
      [&] { return od.mutable_consecutive_local_origin_failure(); },
      kDefaultOutlierConsecutiveLocalOriginFailure);
  DefaultWrapper(
      od.has_enforcing_consecutive_local_origin_failure(),
      [&] { return od.mutable_enforcing_consecutive_local_origin_failure(); },
      kDefaultOutlierEnforcingConsecutiveLocalOriginFailure);
  if (!od.has_max_ejection_time()) {
    // Envoy: 300 s or base_ejection_time, whichever is larger.
    absl::Duration max = std::max(absl::Seconds(kDefaultOutlierMaxEjectionTimeSeconds),
                                  ToAbsl(od.base_ejection_time()));
    ToProto(max, *od.mutable_max_ejection_time());
  }
}

void ApplyCircuitBreakerDefaults(v1::CircuitBreakers& cb) {
  DefaultWrapper(
      cb.has_max_connections(), [&] { return cb.mutable_max_connections(); },
      kDefaultCircuitBreakerMaxConnections);
  DefaultWrapper(
      cb.has_max_pending_requests(), [&] { return cb.mutable_max_pending_requests(); },
      kDefaultCircuitBreakerMaxPendingRequests);
  DefaultWrapper(
      cb.has_max_requests(), [&] { return cb.mutable_max_requests(); },
      kDefaultCircuitBreakerMaxRequests);
  DefaultWrapper(
      cb.has_max_retries(), [&] { return cb.mutable_max_retries(); },
      kDefaultCircuitBreakerMaxRetries);
  if (cb.has_retry_budget()) {
    v1::CircuitBreakers::RetryBudget& budget = *cb.mutable_retry_budget();
    DefaultWrapper(
        budget.has_budget_percent(), [&] { return budget.mutable_budget_percent(); },
        kDefaultRetryBudgetPercent);
    DefaultWrapper(
        budget.has_min_retry_concurrency(), [&] { return budget.mutable_min_retry_concurrency(); },
        kDefaultRetryBudgetMinRetryConcurrency);
  }
}

void ApplyRetryPolicyDefaults(v1::RetryPolicy& retry) {
  DefaultWrapper(
      retry.has_num_retries(), [&] { return retry.mutable_num_retries(); }, kDefaultNumRetries);
  if (!retry.has_retry_back_off()) {
    SetMillis(*retry.mutable_retry_back_off()->mutable_base_interval(),
              kDefaultRetryBaseIntervalMillis);
  }
  v1::RetryPolicy::RetryBackOff& back_off = *retry.mutable_retry_back_off();
  if (back_off.has_base_interval() && !back_off.has_max_interval()) {
    ToProto(ToAbsl(back_off.base_interval()) * kRetryMaxIntervalFactor,
            *back_off.mutable_max_interval());
  }
  DefaultWrapper(
      retry.has_host_selection_retry_max_attempts(),
      [&] { return retry.mutable_host_selection_retry_max_attempts(); },
      kDefaultHostSelectionRetryMaxAttempts);
}

void ApplyLbDefaults(v1::Cluster& cluster) {
  v1::CommonLbConfig& common = *cluster.mutable_common_lb_config();
  DefaultWrapper(
      common.has_healthy_panic_threshold(),
      [&] { return common.mutable_healthy_panic_threshold(); }, kDefaultHealthyPanicThreshold);
  DefaultWrapper(
      common.has_overprovisioning_factor(),
      [&] { return common.mutable_overprovisioning_factor(); }, kDefaultOverprovisioningFactor);
  // The policy's own settings, unless some lb_config is already set (a
  // mismatched one is the validator's business).
  if (cluster.lb_config_case() == v1::Cluster::LB_CONFIG_NOT_SET) {
    switch (cluster.lb_policy()) {
      case v1::Cluster::RING_HASH:
        cluster.mutable_ring_hash_lb_config();
        break;
      case v1::Cluster::MAGLEV:
        cluster.mutable_maglev_lb_config();
        break;
      case v1::Cluster::LEAST_REQUEST:
        cluster.mutable_least_request_lb_config();
        break;
      default:
        break;
    }
  }
  if (cluster.has_ring_hash_lb_config()) {
    v1::RingHashLbConfig& ring = *cluster.mutable_ring_hash_lb_config();
    DefaultWrapper(
        ring.has_minimum_ring_size(), [&] { return ring.mutable_minimum_ring_size(); },
        kDefaultMinimumRingSize);
    DefaultWrapper(
        ring.has_maximum_ring_size(), [&] { return ring.mutable_maximum_ring_size(); },
        kDefaultMaximumRingSize);
  }
  if (cluster.has_maglev_lb_config()) {
    v1::MaglevLbConfig& maglev = *cluster.mutable_maglev_lb_config();
    DefaultWrapper(
        maglev.has_table_size(), [&] { return maglev.mutable_table_size(); },
        kDefaultMaglevTableSize);
  }
  if (cluster.has_least_request_lb_config()) {
    v1::LeastRequestLbConfig& least = *cluster.mutable_least_request_lb_config();
    DefaultWrapper(
        least.has_choice_count(), [&] { return least.mutable_choice_count(); },
        kDefaultLeastRequestChoiceCount);
  }
}

void ApplyClusterDefaults(v1::Cluster& cluster) {
  for (v1::Endpoint& endpoint : *cluster.mutable_endpoints()) {
    if (!endpoint.has_weight()) endpoint.mutable_weight()->set_value(kDefaultEndpointWeight);
  }
  DefaultDuration(
      cluster.has_connect_timeout(), [&] { return cluster.mutable_connect_timeout(); },
      kDefaultConnectTimeoutSeconds);
  DefaultDuration(
      cluster.has_response_timeout(), [&] { return cluster.mutable_response_timeout(); },
      kDefaultResponseTimeoutSeconds);
  DefaultDuration(
      cluster.has_idle_timeout(), [&] { return cluster.mutable_idle_timeout(); },
      kDefaultUpstreamIdleTimeoutSeconds);
  if (!cluster.has_max_connections_per_host()) {
    cluster.mutable_max_connections_per_host()->set_value(kDefaultMaxConnectionsPerHost);
  }
  if (cluster.has_health_check()) ApplyHealthCheckDefaults(*cluster.mutable_health_check());
  if (cluster.has_outlier_detection()) {
    ApplyOutlierDetectionDefaults(*cluster.mutable_outlier_detection());
  }
  ApplyCircuitBreakerDefaults(*cluster.mutable_circuit_breakers());
  if (cluster.has_retry_policy()) ApplyRetryPolicyDefaults(*cluster.mutable_retry_policy());
  ApplyLbDefaults(cluster);
}

void ApplyLimitsDefaults(v1::Limits& limits) {
  if (!limits.has_max_request_headers_kb()) {
    limits.mutable_max_request_headers_kb()->set_value(kDefaultMaxRequestHeadersKb);
  }
  if (!limits.has_max_headers_count()) {
    limits.mutable_max_headers_count()->set_value(kDefaultMaxHeadersCount);
  }
  DefaultDuration(
      limits.has_request_timeout(), [&] { return limits.mutable_request_timeout(); },
      kDefaultRequestTimeoutSeconds);
  DefaultDuration(
      limits.has_idle_timeout(), [&] { return limits.mutable_idle_timeout(); },
      kDefaultDownstreamIdleTimeoutSeconds);
  DefaultDuration(
      limits.has_drain_timeout(), [&] { return limits.mutable_drain_timeout(); },
      kDefaultDrainTimeoutSeconds);
  if (!limits.has_max_concurrent_streams()) {
    limits.mutable_max_concurrent_streams()->set_value(kDefaultMaxConcurrentStreams);
  }
  DefaultDuration(
      limits.has_send_timeout(), [&] { return limits.mutable_send_timeout(); },
      kDefaultSendTimeoutSeconds);
  if (!limits.has_max_pipelined_requests()) {
    limits.mutable_max_pipelined_requests()->set_value(kDefaultMaxPipelinedRequests);
  }
  v1::Http2Protection& http2 = *limits.mutable_http2();
  DefaultWrapper(
      http2.has_max_outbound_control_frames(),
      [&] { return http2.mutable_max_outbound_control_frames(); },
      kDefaultHttp2MaxOutboundControlFrames);
  DefaultWrapper(
      http2.has_max_settings_entries(), [&] { return http2.mutable_max_settings_entries(); },
      kDefaultHttp2MaxSettingsEntries);
  DefaultWrapper(
      http2.has_max_continuation_frames(), [&] { return http2.mutable_max_continuation_frames(); },
      kDefaultHttp2MaxContinuationFrames);
  DefaultWrapper(
      http2.has_stream_reset_burst(), [&] { return http2.mutable_stream_reset_burst(); },
      kDefaultHttp2StreamResetBurst);
  DefaultWrapper(
      http2.has_stream_resets_per_second(),
      [&] { return http2.mutable_stream_resets_per_second(); }, kDefaultHttp2StreamResetsPerSecond);
}

// A rollout drives a two-cluster split: sticky by source IP and pinnable by
// header unless the route says otherwise.
void ApplyRolloutDefaults(v1::Route& route) {
  v1::Rollout& rollout = *route.mutable_rollout();
  DefaultDuration(
      rollout.has_evaluation_interval(), [&] { return rollout.mutable_evaluation_interval(); },
      kDefaultRolloutEvaluationIntervalSeconds);
  DefaultWrapper(
      rollout.has_fallback_to_stable(), [&] { return rollout.mutable_fallback_to_stable(); }, true);
  for (v1::RolloutGate& gate : *rollout.mutable_gates()) {
    DefaultDuration(
        gate.has_window(), [&] { return gate.mutable_window(); }, kDefaultGateWindowSeconds);
    DefaultWrapper(
        gate.has_min_requests(), [&] { return gate.mutable_min_requests(); },
        kDefaultGateMinRequests);
    if (gate.relative_to_stable()) {
      DefaultWrapper(
          gate.has_stable_factor(), [&] { return gate.mutable_stable_factor(); }, 1.0);
    }
  }
  if (route.action_case() != v1::Route::kWeightedClusters) return;
  v1::WeightedClusters& weighted = *route.mutable_weighted_clusters();
  if (weighted.stickiness().key_case() == v1::ClientStickiness::KEY_NOT_SET) {
    weighted.mutable_stickiness()->set_source_ip(true);
  }
  if (weighted.pin_header().empty()) weighted.set_pin_header(std::string(kDefaultPinHeader));
}

}  // namespace

std::string DefaultCacheDir(const char* xdg_cache_home, const char* home) {
  if (xdg_cache_home != nullptr && xdg_cache_home[0] == '/') {
    return absl::StrCat(xdg_cache_home, "/modgate");
  }
  if (home != nullptr && home[0] != '\0') return absl::StrCat(home, "/.cache/modgate");
  return "";
}

std::string DefaultNodeId(const char* pod_name, const char* host_name) {
  if (pod_name != nullptr && pod_name[0] != '\0') return pod_name;
  if (host_name != nullptr) return host_name;
  return "";
}

namespace {

void ApplyNodeDefaults(v1::Node& node) {
  if (!node.id().empty()) return;
  char host_name[256] = {};
  const bool have_host = gethostname(host_name, sizeof(host_name) - 1) == 0;
  node.set_id(DefaultNodeId(std::getenv("POD_NAME"), have_host ? host_name : nullptr));
}

void ApplyControlPlaneDefaults(v1::ControlPlane& cp) {
  DefaultDuration(
      cp.has_connect_timeout(), [&] { return cp.mutable_connect_timeout(); },
      kDefaultControlPlaneConnectTimeoutSeconds);
  if (!cp.has_retry_base_interval()) {
    cp.mutable_retry_base_interval()->set_nanos(kDefaultControlPlaneRetryBaseMillis * 1000000);
  }
  DefaultDuration(
      cp.has_retry_max_interval(), [&] { return cp.mutable_retry_max_interval(); },
      kDefaultControlPlaneRetryMaxSeconds);
  DefaultDuration(
      cp.has_initial_fetch_timeout(), [&] { return cp.mutable_initial_fetch_timeout(); },
      kDefaultControlPlaneInitialFetchTimeoutSeconds);
}

}  // namespace

void ApplyDefaults(v1::Bootstrap& bootstrap) {
  if (bootstrap.listeners().empty()) {
    v1::Listener* listener = bootstrap.add_listeners();
    listener->set_name(std::string(kDefaultListenerName));
    listener->set_address(std::string(kDefaultListenerAddress));
  }
  for (int i = 0; i < bootstrap.listeners_size(); ++i) {
    v1::Listener& listener = *bootstrap.mutable_listeners(i);
    if (listener.name().empty()) listener.set_name(absl::StrCat("listener", i));
  }
  if (bootstrap.admin().address().empty()) {
    bootstrap.mutable_admin()->set_address(std::string(kDefaultAdminAddress));
  }
  ApplyCacheDefaults(*bootstrap.mutable_cache());
  for (v1::Cluster& cluster : *bootstrap.mutable_clusters()) ApplyClusterDefaults(cluster);
  if (bootstrap.routes().empty() && bootstrap.clusters_size() == 1) {
    // A single upstream is the common case; requiring a route for it would
    // be pure ceremony.
    v1::Route* route = bootstrap.add_routes();
    route->set_name(std::string(kDefaultRouteName));
    route->set_cluster(bootstrap.clusters(0).name());
  }
  for (v1::Route& route : *bootstrap.mutable_routes()) {
    if (route.has_rollout()) ApplyRolloutDefaults(route);
  }
  if (bootstrap.log_level().empty()) bootstrap.set_log_level(std::string(kDefaultLogLevel));
  ApplyLimitsDefaults(*bootstrap.mutable_limits());
  ApplyNodeDefaults(*bootstrap.mutable_node());
  if (bootstrap.has_control_plane()) ApplyControlPlaneDefaults(*bootstrap.mutable_control_plane());
}

absl::Duration EffectiveRouteTimeout(const v1::Route& route, v1::RouteMatch::Kind kind) {
  if (route.has_timeout()) {
    absl::Duration timeout = ToAbsl(route.timeout());
    return timeout == absl::ZeroDuration() ? absl::InfiniteDuration() : timeout;
  }
  if (kind == v1::RouteMatch::ZIP) return absl::InfiniteDuration();
  return absl::Seconds(kDefaultRouteTimeoutSeconds);
}

}  // namespace modgate::config
