#include "source/upstream/cluster/cluster.h"

#include <algorithm>
#include <cmath>

#include "source/upstream/file_origin_client.h"
#include "source/upstream/load_balancer/load_balancer_factory.h"

namespace modgate::upstream {

Cluster::Cluster(ClusterInfo info, std::vector<HostSharedPtr> hosts, ClusterStats stats)
    : info_(std::move(info)), hosts_(std::move(hosts)), stats_(stats) {}

std::shared_ptr<const LoadBalancerFactory> Cluster::buildLoadBalancerFactory() const {
  auto snapshot = buildHostSetSnapshot(
      hosts_, [](const Host& host) { return endpoint(host).healthy(); }, info_.host_set_options);
  return createLoadBalancerFactory(info_.lb_policy, info_.lb_options, std::move(snapshot));
}

bool Cluster::requestAllowed() const {
  return active_requests.load(std::memory_order_relaxed) < info_.circuit_breakers.max_requests;
}

bool Cluster::retryAllowed() const {
  const auto& limits = info_.circuit_breakers;
  uint32_t allowed = limits.max_retries;
  if (limits.retry_budget_percent.has_value()) {
    // Envoy's retry budget: a share of the requests in flight, with a floor.
    double budget = *limits.retry_budget_percent / 100.0 *
                    static_cast<double>(active_requests.load(std::memory_order_relaxed));
    allowed = std::max(limits.min_retry_concurrency, static_cast<uint32_t>(std::floor(budget)));
  }
  return active_retries.load(std::memory_order_relaxed) < allowed;
}

std::unique_ptr<HttpClient> createEndpointClient(event::Dispatcher& dispatcher,
                                                 const Endpoint& endpoint,
                                                 common::ThreadPool& file_pool) {
  if (endpoint.url.file()) return createFileOriginClient(dispatcher, file_pool);
  return createHttpClient(dispatcher, endpoint.client);
}

HostSharedPtr makeHost(std::unique_ptr<Endpoint> endpoint, uint32_t weight, uint32_t priority) {
  std::string name = endpoint->url.authority();
  if (!endpoint->url.path_prefix.empty()) name += endpoint->url.path_prefix;
  std::shared_ptr<void> data(endpoint.release(),
                             [](void* raw) { delete static_cast<Endpoint*>(raw); });
  return std::make_shared<Host>(std::move(name), weight, priority, std::move(data));
}

}  // namespace modgate::upstream
