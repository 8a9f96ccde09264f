#include "source/filters/goproxy/worker_context.h"

namespace modgate::filters::goproxy {

WorkerContext::WorkerContext(event::Dispatcher& dispatcher, stats::Stats* stats)
    : dispatcher_(dispatcher), stats_(stats) {}

WorkerContext::~WorkerContext() {
  // Fetches reference the clients: they go first.
  jobs_.clear();
}

upstream::HttpClient& WorkerContext::clientFor(const router::Endpoint& endpoint) {
  auto it = clients_.find(endpoint.client_key);
  if (it == clients_.end()) {
    it = clients_
             .emplace(endpoint.client_key, upstream::createHttpClient(dispatcher_, endpoint.client))
             .first;
  }
  return *it->second;
}

void WorkerContext::startFetch(Fetch::Target target, std::unique_ptr<FetchSink> sink,
                               uint64_t max_pending_bytes) {
  auto job = std::make_unique<Job>();
  job->sink = std::move(sink);
  job->fetch = std::make_unique<Fetch>(dispatcher_, *this, std::move(target), *job->sink,
                                       max_pending_bytes, stats_, [this](Fetch& done) {
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
