#include "source/filters/goproxy/worker_context.h"

#include <chrono>

namespace modgate::filters::goproxy {

WorkerContext::WorkerContext(event::Dispatcher& dispatcher, common::ThreadPool& file_pool,
                             uint64_t seed, size_t open_file_capacity, stats::Stats* stats)
    : dispatcher_(dispatcher),
      file_pool_(file_pool),
      clusters_(seed),
      open_files_(open_file_capacity),
      response_heads_(kResponseHeadCacheBytes, stats),
      // Never zero (xorshift's fixed point); distinct per worker and run.
      random_state_(
          (seed * 0x9E3779B97F4A7C15ull) ^
          static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^ 1) {}

WorkerContext::~WorkerContext() {
  // Fetches reference the clients: they go first.
  jobs_.clear();
}

upstream::HostSharedPtr WorkerContext::chooseHost(const upstream::Cluster& cluster,
                                                  upstream::LoadBalancerContext* context) {
  return clusters_.chooseHost(cluster, context);
}

upstream::HttpClient& WorkerContext::clientFor(const upstream::Endpoint& endpoint) {
  auto it = clients_.find(endpoint.client_key);
  if (it == clients_.end()) {
    it = clients_
             .emplace(endpoint.client_key,
                      upstream::createEndpointClient(dispatcher_, endpoint, file_pool_))
             .first;
  }
  return *it->second;
}

void WorkerContext::startFetch(Fetch::Target target, std::unique_ptr<FetchSink> sink,
                               uint64_t max_pending_bytes) {
  auto job = std::make_unique<Job>();
  job->sink = std::move(sink);
  job->fetch = std::make_unique<Fetch>(dispatcher_, *this, std::move(target), *job->sink,
                                       max_pending_bytes, [this](Fetch& done) {
                                         auto it = jobs_.find(&done);
                                         if (it == jobs_.end()) return;
                                         // Still on the fetch's stack: free later.
                                         dispatcher_.deferredDelete(std::move(it->second));
                                         jobs_.erase(it);
                                       });
  Fetch* raw = job->fetch.get();
  jobs_.emplace(raw, std::move(job));
  raw->start();
}

}  // namespace modgate::filters::goproxy
