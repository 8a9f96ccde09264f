#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace modgate::upstream {

// A range of HTTP status codes, [start, end), as Envoy's Int64Range.
struct StatusRange {
  uint32_t start = 0;
  uint32_t end = 0;
};

// Active HTTP health checking of one cluster. Mirrors
// modgate.config.v1.HealthCheck field for field (plus the Envoy defaults the
// config step fills in) so that this library does not depend on the config
// protos; a later step maps the message into it. Validation (required
// fields, ranges) is the config's job; the checker only guards against
// values that would spin (a zero interval is treated as 1 ms).
struct HealthCheckOptions {
  // Request path, appended to the endpoint URL's path prefix. Overridden per
  // endpoint by HealthCheckEndpoint::path_override.
  std::string path;

  // Host header (:authority over HTTP/2) of the probes
  // (RequestOptions::authority); "" = the endpoint URL's authority.
  std::string host;

  std::chrono::milliseconds interval{10000};
  // Covers the whole probe, from send until the end of the response.
  std::chrono::milliseconds timeout{1000};
  // The first probe of a host comes after a random delay in [0, initial_jitter).
  std::chrono::milliseconds initial_jitter{0};
  // Each delay between probes gets a random extra in [0, interval_jitter)
  // plus one in [0, base * interval_jitter_percent / 100), as in Envoy.
  std::chrono::milliseconds interval_jitter{0};
  uint32_t interval_jitter_percent = 0;

  // Consecutive failed probes that mark a healthy host unhealthy, and
  // consecutive passed probes that mark an unhealthy host healthy.
  uint32_t unhealthy_threshold = 3;
  uint32_t healthy_threshold = 2;

  // Statuses that pass a probe; empty = 200 only.
  std::vector<StatusRange> expected_statuses;

  // Delay between probes of an unhealthy host. Unset = interval.
  std::optional<std::chrono::milliseconds> unhealthy_interval;
  // Delay before the first probe after a host was marked healthy. Unset =
  // interval.
  std::optional<std::chrono::milliseconds> healthy_edge_interval;
  // Delay before the first probe after a host was marked unhealthy. Unset =
  // unhealthy_interval.
  std::optional<std::chrono::milliseconds> unhealthy_edge_interval;
  // Delay between probes (healthy or not) while the cluster has not served
  // any request; only used when the checker is given a traffic probe.
  std::chrono::milliseconds no_traffic_interval{60000};

  // Envoy (and cluster.proto) keep a host out of load balancing until its
  // first probe passes, and then one passed probe suffices. Setting this
  // starts hosts healthy instead (a fresh proxy serves at once; the first
  // unhealthy_threshold failures take it out as usual).
  bool hosts_start_healthy = false;
};

// True if `status` is in one of `ranges` (200 only when `ranges` is empty).
bool isExpectedStatus(const std::vector<StatusRange>& ranges, uint32_t status);

}  // namespace modgate::upstream
