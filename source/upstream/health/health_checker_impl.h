#pragma once

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "source/upstream/health/health_check_session.h"
#include "source/upstream/health/health_checker.h"

namespace modgate::upstream {

class HealthCheckerImpl : public HealthChecker, private HealthCheckSession::Owner {
 public:
  HealthCheckerImpl(event::Dispatcher& dispatcher, HealthCheckOptions options,
                    HealthCheckClientFn client_for, HealthCheckerCallbacks& callbacks,
                    HealthCheckerDeps deps);
  ~HealthCheckerImpl() override;

  // HealthChecker
  void start() override;
  void stop() override;
  void addHost(HealthCheckEndpoint endpoint) override;
  void removeHost(const HostSharedPtr& host) override;
  bool healthy(const Host& host) const override;
  std::vector<HostHealthStatus> hostStatuses() const override;

 private:
  // HealthCheckSession::Owner
  const HealthCheckOptions& options() const override { return options_; }
  HttpClient& clientFor(const Host& host) override { return client_for_(host); }
  Random& random() override { return random_; }
  bool hasTraffic() override { return !has_traffic_ || has_traffic_(); }
  void onProbeDone(HealthCheckSession& session, bool changed) override;

  // Reports onInitialProbesDone() once the hosts known at start() have all
  // had a probe; the callback may destroy the checker, so call it last.
  void maybeInitialized();

  event::Dispatcher& dispatcher_;
  const HealthCheckOptions options_;
  const HealthCheckClientFn client_for_;
  HealthCheckerCallbacks& callbacks_;
  const std::function<bool()> has_traffic_;
  Random random_;
  bool running_ = false;
  // Hosts known at start() still waiting for their first probe since then.
  bool awaiting_initial_ = false;
  absl::flat_hash_set<const Host*> initial_pending_;
  absl::flat_hash_map<const Host*, std::unique_ptr<HealthCheckSession>> sessions_;
  // Expires when the checker is destroyed: callbacks may destroy it, so
  // code that calls out more than once checks it in between.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace modgate::upstream
