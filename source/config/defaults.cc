#include "source/config/defaults.h"

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
  if (!cache.has_serve_stale()) cache.mutable_serve_stale()->set_value(true);
  if (!cache.has_hot_object_max_bytes()) {
    cache.mutable_hot_object_max_bytes()->set_value(kDefaultHotObjectMaxBytes);
  }
  if (!cache.has_hot_cache_max_bytes()) {
    cache.mutable_hot_cache_max_bytes()->set_value(kDefaultHotCacheMaxBytes);
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
  if (!limits.has_max_concurrent_streams()) {
    limits.mutable_max_concurrent_streams()->set_value(kDefaultMaxConcurrentStreams);
  }
}

}  // namespace

std::string DefaultCacheDir(const char* xdg_cache_home, const char* home) {
  if (xdg_cache_home != nullptr && xdg_cache_home[0] == '/') {
    return absl::StrCat(xdg_cache_home, "/modgate");
  }
  if (home != nullptr && home[0] != '\0') return absl::StrCat(home, "/.cache/modgate");
  return "";
}

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
  if (bootstrap.log_level().empty()) bootstrap.set_log_level(std::string(kDefaultLogLevel));
  ApplyLimitsDefaults(*bootstrap.mutable_limits());
}

}  // namespace modgate::config
