#include "source/filters/goproxy/worker_context.h"

namespace modgate::filters::goproxy {

WorkerContext::WorkerContext(event::Dispatcher& dispatcher,
                             std::unique_ptr<upstream::HttpClient> client)
    : dispatcher_(dispatcher), client_(std::move(client)) {}

WorkerContext::~WorkerContext() {
  // Fetches reference the client: they go first.
  jobs_.clear();
}

void WorkerContext::startFetch(Fetch::Target target, std::unique_ptr<FetchSink> sink,
                               uint64_t max_pending_bytes) {
  auto job = std::make_unique<Job>();
  job->sink = std::move(sink);
  job->fetch = std::make_unique<Fetch>(dispatcher_, *client_, std::move(target), *job->sink,
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
