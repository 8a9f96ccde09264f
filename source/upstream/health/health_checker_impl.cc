#include "source/upstream/health/health_checker_impl.h"

#include <random>

namespace modgate::upstream {
namespace {

uint64_t seedOrRandom(const std::optional<uint64_t>& seed) {
  if (seed.has_value()) return *seed;
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

std::unique_ptr<HealthChecker> createHealthChecker(event::Dispatcher& dispatcher,
                                                   HealthCheckOptions options,
                                                   HealthCheckClientFn client_for,
                                                   HealthCheckerCallbacks& callbacks,
                                                   HealthCheckerDeps deps) {
  return std::make_unique<HealthCheckerImpl>(dispatcher, std::move(options), std::move(client_for),
                                             callbacks, std::move(deps));
}

HealthCheckerImpl::HealthCheckerImpl(event::Dispatcher& dispatcher, HealthCheckOptions options,
                                     HealthCheckClientFn client_for,
                                     HealthCheckerCallbacks& callbacks, HealthCheckerDeps deps)
    : dispatcher_(dispatcher),
      options_(std::move(options)),
      client_for_(std::move(client_for)),
      callbacks_(callbacks),
      has_traffic_(std::move(deps.has_traffic)),
      random_(seedOrRandom(deps.random_seed)) {}

HealthCheckerImpl::~HealthCheckerImpl() {
  alive_.reset();
  // Sessions cancel their probes as they go.
  sessions_.clear();
}

void HealthCheckerImpl::start() {
  if (running_) return;
  running_ = true;
  awaiting_initial_ = true;
  initial_pending_.clear();
  for (auto& [host, session] : sessions_) {
    initial_pending_.insert(host);
    session->start();
  }
  maybeInitialized();
}

void HealthCheckerImpl::stop() {
  running_ = false;
  awaiting_initial_ = false;
  initial_pending_.clear();
  for (auto& [host, session] : sessions_) session->stop();
}

void HealthCheckerImpl::addHost(HealthCheckEndpoint endpoint) {
  const Host* key = endpoint.host.get();
  auto it = sessions_.find(key);
  if (it != sessions_.end()) {
    it->second->setEndpoint(std::move(endpoint));
    return;
  }
  auto session = std::make_unique<HealthCheckSession>(
      dispatcher_, static_cast<HealthCheckSession::Owner&>(*this), std::move(endpoint));
  if (running_) session->start();
  sessions_.emplace(key, std::move(session));
}

void HealthCheckerImpl::removeHost(const HostSharedPtr& host) {
  sessions_.erase(host.get());
  if (initial_pending_.erase(host.get()) > 0) maybeInitialized();
}

bool HealthCheckerImpl::healthy(const Host& host) const {
  auto it = sessions_.find(&host);
  return it != sessions_.end() && it->second->status().healthy;
}

std::vector<HostHealthStatus> HealthCheckerImpl::hostStatuses() const {
  std::vector<HostHealthStatus> out;
  out.reserve(sessions_.size());
  for (const auto& [host, session] : sessions_) out.push_back(session->status());
  return out;
}

void HealthCheckerImpl::onProbeDone(HealthCheckSession& session, bool changed) {
  // Copies: the callback may remove the session or destroy the checker.
  HostSharedPtr host = session.host();
  bool healthy = session.status().healthy;
  std::weak_ptr<bool> alive = alive_;
  if (changed) {
    callbacks_.onHostHealthChanged(host, healthy);
    if (alive.expired()) return;
  }
  if (initial_pending_.erase(host.get()) > 0) maybeInitialized();
}

void HealthCheckerImpl::maybeInitialized() {
  if (!awaiting_initial_ || !initial_pending_.empty()) return;
  awaiting_initial_ = false;
  callbacks_.onInitialProbesDone();
}

}  // namespace modgate::upstream
