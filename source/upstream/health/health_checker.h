#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "source/common/event/dispatcher.h"
#include "source/upstream/health/health_check_options.h"
#include "source/upstream/http_client.h"
#include "source/upstream/load_balancer/host.h"

namespace modgate::upstream {

// One host to probe: where, and (optionally) on which path.
struct HealthCheckEndpoint {
  HostSharedPtr host;
  Url url;
  // "" = HealthCheckOptions::path (Endpoint.health_check_path).
  std::string path_override;
};

// What the checker reports; called on the checker's (main) dispatcher. The
// callbacks may destroy or stop the checker.
class HealthCheckerCallbacks {
 public:
  virtual ~HealthCheckerCallbacks() = default;
  // A host crossed a threshold (or passed its first probe).
  virtual void onHostHealthChanged(const HostSharedPtr& host, bool healthy) = 0;
  // Every host known at start() has had its first probe, passed or failed:
  // the cluster can finish starting. Called once per start(), right away if
  // there are no hosts.
  virtual void onInitialProbesDone() {}
};

// Per-host state for an admin dump.
struct HostHealthStatus {
  HostSharedPtr host;
  bool healthy = false;
  bool pending_first_probe = true;
  uint32_t consecutive_successes = 0;
  uint32_t consecutive_failures = 0;
  uint64_t probes_total = 0;
  uint64_t probes_failed = 0;
  // The last finished probe: its HTTP status (0 if none came) and, when it
  // failed, why ("status 500", "timeout", "connect_failure", ...).
  uint32_t last_status = 0;
  std::string last_failure;
  std::optional<event::MonotonicTime> last_probe_time;
};

// Active HTTP health checking of one cluster's hosts. Main dispatcher only;
// destroying it at any time (also from its callbacks) cancels everything.
class HealthChecker {
 public:
  virtual ~HealthChecker() = default;

  // Starts probing every host (first probes after initial_jitter). Hosts
  // keep their state across stop()/start().
  virtual void start() = 0;
  // Cancels probes in flight and every timer; no callback follows.
  virtual void stop() = 0;

  // A host joining the cluster starts unhealthy and pending its first probe
  // (healthy with HealthCheckOptions::hosts_start_healthy); it is probed at
  // once if the checker is running. Re-adding a known host replaces its
  // URL and path but keeps its state.
  virtual void addHost(HealthCheckEndpoint endpoint) = 0;
  // Forgets a host, cancelling its probe; no callback for it follows.
  virtual void removeHost(const HostSharedPtr& host) = 0;

  // False for hosts the checker does not know.
  virtual bool healthy(const Host& host) const = 0;
  virtual std::vector<HostHealthStatus> hostStatuses() const = 0;
};

// The HttpClient (of the checker's dispatcher) to probe a host with: per
// host because TLS settings (SNI, verification, HTTP/2) are per endpoint.
using HealthCheckClientFn = std::function<HttpClient&(const Host&)>;

struct HealthCheckerDeps {
  // True once the cluster has served a request; until then probes use
  // no_traffic_interval. Null = always true (no_traffic_interval unused).
  std::function<bool()> has_traffic;
  // Jitter seed; unset = from std::random_device.
  std::optional<uint64_t> random_seed;
};

std::unique_ptr<HealthChecker> createHealthChecker(event::Dispatcher& dispatcher,
                                                   HealthCheckOptions options,
                                                   HealthCheckClientFn client_for,
                                                   HealthCheckerCallbacks& callbacks,
                                                   HealthCheckerDeps deps = {});

}  // namespace modgate::upstream
