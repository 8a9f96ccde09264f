#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/modgate/config/v1/bootstrap.pb.h"

namespace modgate::config {

// Documented defaults (see the comments in api/modgate/config/v1/*.proto).
inline constexpr absl::string_view kDefaultListenerName = "main";
inline constexpr absl::string_view kDefaultListenerAddress = "127.0.0.1:8080";
inline constexpr absl::string_view kDefaultAdminAddress = "127.0.0.1:9901";
inline constexpr uint64_t kDefaultCacheMaxBytes = uint64_t{10} << 30;  // 10 GiB
// Only tiny bodies (.info, .mod, lists, negative answers) are worth a
// private copy: larger ones go out with sendfile() or from the page cache,
// which already holds them. 4 MiB keeps thousands of them, within a
// sidecar's budget (issue 12).
inline constexpr uint64_t kDefaultHotObjectMaxBytes = uint64_t{16} << 10;  // 16 KiB
inline constexpr uint64_t kDefaultHotCacheMaxBytes = uint64_t{4} << 20;    // 4 MiB
inline constexpr int64_t kDefaultCacheTtlSeconds = 60;
inline constexpr int64_t kDefaultConnectTimeoutSeconds = 5;
inline constexpr int64_t kDefaultResponseTimeoutSeconds = 30;
inline constexpr int64_t kDefaultUpstreamIdleTimeoutSeconds = 60;
inline constexpr uint32_t kDefaultMaxConnectionsPerHost = 64;
inline constexpr uint32_t kDefaultEndpointWeight = 1;
inline constexpr uint32_t kDefaultMaxRequestHeadersKb = 60;
inline constexpr uint32_t kDefaultMaxHeadersCount = 100;
inline constexpr int64_t kDefaultRequestTimeoutSeconds = 10;
inline constexpr int64_t kDefaultDownstreamIdleTimeoutSeconds = 60;
inline constexpr int64_t kDefaultDrainTimeoutSeconds = 5;
inline constexpr uint32_t kDefaultMaxConcurrentStreams = 100;
// A go command never stalls a minute on a localhost socket, nor pipelines.
inline constexpr int64_t kDefaultSendTimeoutSeconds = 60;
inline constexpr uint32_t kDefaultMaxPipelinedRequests = 32;
// HTTP/2 protections: nghttp2's own defaults, except the reset bucket, which
// is smaller than nghttp2's 1000 (a go command cancels a few at a time).
inline constexpr uint32_t kDefaultHttp2MaxOutboundControlFrames = 1000;
inline constexpr uint32_t kDefaultHttp2MaxSettingsEntries = 32;
inline constexpr uint32_t kDefaultHttp2MaxContinuationFrames = 8;
inline constexpr uint32_t kDefaultHttp2StreamResetBurst = 200;
inline constexpr uint32_t kDefaultHttp2StreamResetsPerSecond = 33;
inline constexpr absl::string_view kDefaultLogLevel = "info";
// Upstream resilience defaults: Envoy's.
inline constexpr int64_t kDefaultHealthCheckNoTrafficIntervalSeconds = 60;
inline constexpr uint32_t kDefaultHealthyStatus = 200;
inline constexpr uint32_t kDefaultOutlierConsecutive5xx = 5;
inline constexpr int64_t kDefaultOutlierIntervalSeconds = 10;
inline constexpr int64_t kDefaultOutlierBaseEjectionTimeSeconds = 30;
inline constexpr uint32_t kDefaultOutlierMaxEjectionPercent = 10;
inline constexpr uint32_t kDefaultOutlierEnforcingConsecutive5xx = 100;
inline constexpr uint32_t kDefaultOutlierConsecutiveGatewayFailure = 5;
inline constexpr uint32_t kDefaultOutlierEnforcingConsecutiveGatewayFailure = 0;
inline constexpr uint32_t kDefaultOutlierConsecutiveLocalOriginFailure = 5;
inline constexpr uint32_t kDefaultOutlierEnforcingConsecutiveLocalOriginFailure = 100;
inline constexpr int64_t kDefaultOutlierMaxEjectionTimeSeconds = 300;
inline constexpr uint32_t kDefaultCircuitBreakerMaxConnections = 1024;
inline constexpr uint32_t kDefaultCircuitBreakerMaxPendingRequests = 1024;
inline constexpr uint32_t kDefaultCircuitBreakerMaxRequests = 1024;
inline constexpr uint32_t kDefaultCircuitBreakerMaxRetries = 3;
inline constexpr double kDefaultRetryBudgetPercent = 20.0;
inline constexpr uint32_t kDefaultRetryBudgetMinRetryConcurrency = 3;
inline constexpr uint32_t kDefaultNumRetries = 1;
inline constexpr int64_t kDefaultRetryBaseIntervalMillis = 25;
inline constexpr int64_t kRetryMaxIntervalFactor = 10;  // max_interval = 10 * base_interval
inline constexpr uint32_t kDefaultHostSelectionRetryMaxAttempts = 1;
inline constexpr double kDefaultHealthyPanicThreshold = 50.0;
inline constexpr uint32_t kDefaultOverprovisioningFactor = 140;
inline constexpr uint64_t kDefaultMinimumRingSize = 1024;
inline constexpr uint64_t kDefaultMaximumRingSize = 8388608;  // 8M, also the upper bound
inline constexpr uint64_t kDefaultMaglevTableSize = 65537;
inline constexpr uint32_t kDefaultLeastRequestChoiceCount = 2;
// Route.timeout when unset, for every request kind but ZIP (Envoy's 15 s).
inline constexpr int64_t kDefaultRouteTimeoutSeconds = 15;
inline constexpr absl::string_view kDefaultRouteName = "default";
// Canary rollouts.
inline constexpr int64_t kDefaultRolloutEvaluationIntervalSeconds = 10;
inline constexpr int64_t kDefaultGateWindowSeconds = 60;
inline constexpr uint32_t kDefaultGateMinRequests = 100;
inline constexpr absl::string_view kDefaultPinHeader = "x-modgate-canary";
// Control plane.
inline constexpr int64_t kDefaultControlPlaneConnectTimeoutSeconds = 5;
inline constexpr int64_t kDefaultControlPlaneRetryBaseMillis = 500;
inline constexpr int64_t kDefaultControlPlaneRetryMaxSeconds = 30;
inline constexpr int64_t kDefaultControlPlaneInitialFetchTimeoutSeconds = 15;

// The default cache directory: $XDG_CACHE_HOME/modgate when XDG_CACHE_HOME
// is absolute (the XDG spec says to ignore relative values), else
// $HOME/.cache/modgate; "" when neither is usable. Arguments may be null
// (unset variables); taking them as parameters keeps this testable.
std::string DefaultCacheDir(const char* xdg_cache_home, const char* home);

// The default node id: $POD_NAME when non-empty (the Kubernetes downward
// API), else the host name; "" when neither is known. Arguments may be null.
std::string DefaultNodeId(const char* pod_name, const char* host_name);

// Fills every unset field that has a documented default, so later code can
// read values without knowing defaults. Idempotent; never overrides a set
// value. Beyond per-field defaults:
//  - no listeners: one listener "main" on 127.0.0.1:8080; listeners without
//    a name get "listener<index>";
//  - no routes and exactly one cluster: one catch-all route "default" to it;
//  - cache.dir from the environment (DefaultCacheDir with getenv);
//  - node.id from the environment (DefaultNodeId with $POD_NAME and
//    gethostname).
// Endpoint TLS sni stays "" (meaning the URL host) and concurrency stays 0
// (meaning the core count): those defaults depend on the runtime.
//
// Upstream resilience settings follow Envoy: every cluster gets
// circuit_breakers and common_lb_config defaults, and the lb_config of its
// lb_policy (ring_hash_lb_config, maglev_lb_config, least_request_lb_config)
// with defaults when none is set; health_check, outlier_detection,
// retry_policy and retry_budget are never created, but their unset fields
// are filled when they are present (health check intervals derived from
// `interval`, outlier max_ejection_time = max(300s, base_ejection_time),
// retry max_interval = 10 * base_interval, ...). Route.timeout and
// Route.hash_policy stay unset (see EffectiveRouteTimeout()).
void ApplyDefaults(v1::Bootstrap& bootstrap);

// The overall timeout for a request of `kind` on `route`: route.timeout
// when set (0 = none), else 15 s except for ZIP requests, which have none.
// absl::InfiniteDuration() means no timeout.
absl::Duration EffectiveRouteTimeout(const v1::Route& route, v1::RouteMatch::Kind kind);

}  // namespace modgate::config
