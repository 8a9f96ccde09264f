#pragma once

#include <memory>
#include <unordered_map>

#include "source/common/common/thread_pool.h"
#include "source/common/event/dispatcher.h"
#include "source/filters/goproxy/disk_backlog.h"
#include "source/filters/goproxy/fetch.h"
#include "source/filters/goproxy/open_file_cache.h"
#include "source/filters/goproxy/response_head_cache.h"
#include "source/goproxy/request_cache.h"
#include "source/upstream/cluster/cluster_manager.h"
#include "source/upstream/http_client.h"

namespace modgate::filters::goproxy {

// What the GOPROXY filter keeps per worker thread: the upstream client (its
// connection pools) and the fetches this worker drives for the whole process.
class WorkerContext : public UpstreamContext {
 public:
  // `open_file_capacity`: how many cache files this worker keeps open.
  // `file_pool` runs the reads of file:// endpoints. `stats` (may be null)
  // counts the response head cache.
  WorkerContext(event::Dispatcher& dispatcher, common::ThreadPool& file_pool, uint64_t seed,
                size_t open_file_capacity, stats::Stats* stats = nullptr);
  ~WorkerContext() override;

  event::Dispatcher& dispatcher() { return dispatcher_; }
  // One client per distinct endpoint settings (CA file, verification,
  // HTTP/2), created on first use; each owns its connection pools.
  upstream::HttpClient& clientFor(const upstream::Endpoint& endpoint) override;
  upstream::HostSharedPtr chooseHost(const upstream::Cluster& cluster,
                                     upstream::LoadBalancerContext* context) override;
  // A new balancer factory for `cluster`, posted by the cluster manager.
  upstream::ThreadLocalClusters& clusters() { return clusters_; }
  OpenFileCache& openFiles() { return open_files_; }
  ResponseHeadCache& responseHeads() { return response_heads_; }
  modgate::goproxy::RequestCache& requestCache() { return request_cache_; }
  // A fast per-worker pseudo-random number (weighted splits, shadow
  // sampling): xorshift64*, no locks, not for secrets.
  uint64_t random() {
    random_state_ ^= random_state_ >> 12;
    random_state_ ^= random_state_ << 25;
    random_state_ ^= random_state_ >> 27;
    return random_state_ * 0x2545F4914F6CDD1Dull;
  }

  DiskBacklog* diskBacklog() override { return &disk_backlog_; }

  // Runs a fetch whose result goes to `sink`, independent of any client
  // stream; both are freed when the fetch is done. `max_pending_bytes`
  // bounds what all of this worker's fetches hold for the disk together.
  void startFetch(Fetch::Target target, std::unique_ptr<FetchSink> sink,
                  uint64_t max_pending_bytes);
  size_t activeFetches() const { return jobs_.size(); }
  // Bytes this worker's fetches handed to the disk that are not written
  // yet (fetches done or not).
  uint64_t pendingDiskBytes() const { return disk_backlog_.bytes(); }

 private:
  struct Job : public event::DeferredDeletable {
    std::unique_ptr<FetchSink> sink;
    std::unique_ptr<Fetch> fetch;
  };

  event::Dispatcher& dispatcher_;
  common::ThreadPool& file_pool_;
  upstream::ThreadLocalClusters clusters_;
  OpenFileCache open_files_;
  // About 1500 .info answers' fields (~200 bytes each, plus a slot's overhead).
  static constexpr size_t kResponseHeadCacheBytes = 1 << 20;
  ResponseHeadCache response_heads_;
  // Sized for the distinct targets of a large build's module graph.
  modgate::goproxy::RequestCache request_cache_{8192};
  uint64_t random_state_;
  std::unordered_map<std::string, std::unique_ptr<upstream::HttpClient>> clients_;
  // Before jobs_: the fetches leave it as they go.
  DiskBacklog disk_backlog_;
  std::unordered_map<Fetch*, std::unique_ptr<Job>> jobs_;
};

}  // namespace modgate::filters::goproxy
