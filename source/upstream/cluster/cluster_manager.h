#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/modgate/config/v1/bootstrap.pb.h"
#include "source/common/event/dispatcher.h"
#include "source/common/stats/stats.h"
#include "source/upstream/cluster/cluster.h"
#include "source/upstream/health/health_checker.h"
#include "source/upstream/health/outlier_detector.h"

namespace modgate::upstream {

// Owns every cluster on the main thread: builds them from the config and,
// whenever a host's health changes, builds a new balancer factory from the
// new health and publishes it to every worker. Workers never see a
// half-updated host set: each gets an immutable snapshot.
//
// A config reload goes through prepare() (build what changed, touch nothing
// running) and commit() (swap it in): a cluster whose config is unchanged
// stays the same object with its hosts, health and outlier state; one whose
// only change is endpoint weights or priorities is updated in place (its
// hosts keep their state); any other change builds a new cluster, as does a
// new name; removed and replaced clusters stop their health checks, and
// workers keep their balancers only as long as requests still hold them.
class ClusterManager {
 public:
  using PublishCb = std::function<void(const ClusterSharedPtr& cluster,
                                       std::shared_ptr<const LoadBalancerFactory>)>;
  // A cluster left the config (main thread); workers drop its balancer once
  // no request holds the cluster any more.
  using RemoveCb = std::function<void(const std::string& cluster)>;

  // What a reload will change, built by prepare() without touching the
  // running clusters; dropping it discards the new clusters.
  class Update {
   public:
    ~Update();
    // The clusters routes resolve against after the commit: kept, updated,
    // replaced and added, by name (with "sumdb_<name>" ones).
    const std::map<std::string, ClusterSharedPtr>& clusters() const { return clusters_; }
    // Names by what happens to them, for logs and tests.
    std::vector<std::string> kept, reweighted, replaced, added, removed;

   private:
    friend class ClusterManager;
    struct Built;
    std::map<std::string, ClusterSharedPtr> clusters_;
    std::map<std::string, std::unique_ptr<Built>> built_;  // replaced and added
    // reweighted: the new weight and priority of each host, in host order.
    std::map<std::string, std::vector<std::pair<uint32_t, uint32_t>>> weights_;
    std::map<std::string, std::unique_ptr<config::v1::Cluster>> protos_;  // every cluster's config
  };

  static absl::StatusOr<std::unique_ptr<ClusterManager>> create(
      const config::v1::Bootstrap& bootstrap, stats::Stats& stats);

  // Every cluster by name, including one per checksum database with its own
  // URL ("sumdb_<name>").
  const std::map<std::string, ClusterSharedPtr>& clusters() const { return clusters_; }
  ClusterSharedPtr get(const std::string& name) const;

  // The current factory of each cluster, for a worker starting up.
  std::shared_ptr<const LoadBalancerFactory> currentFactory(const std::string& name) const;
  // Called (main thread) with each new factory and each removed cluster;
  // set before workers start.
  void setPublisher(PublishCb publish, RemoveCb remove = nullptr) {
    publish_ = std::move(publish);
    remove_ = std::move(remove);
  }
  // Main thread: a host of `cluster` changed health; rebuild and publish.
  void onHostHealthChanged(const std::string& cluster);

  // Main thread, once, before workers start: health checkers and outlier
  // detectors begin (hosts with active health checks start unhealthy until
  // their first check passes, as in Envoy; with every host unhealthy the
  // panic threshold spreads traffic over all of them meanwhile).
  // `file_pool` runs the file reads of file:// endpoints' health checks.
  void start(event::Dispatcher& main_dispatcher, common::ThreadPool& file_pool);

  // Main thread: diffs `bootstrap` against the running clusters and builds
  // the new ones. Errors name the field ("clusters[2].endpoints[0].url:
  // ..."); nothing running changes either way.
  absl::StatusOr<std::unique_ptr<Update>> prepare(const config::v1::Bootstrap& bootstrap);
  // Main thread, after start(): applies `update`. New and changed clusters
  // are published (PublishCb) before removed ones are announced (RemoveCb),
  // so a worker never misses a cluster the new routes name.
  void commit(std::unique_ptr<Update> update);

  // Text for admin /clusters: one line per host and field, Envoy style.
  std::string dumpClusters() const;

  // Runtime keys "clusters.<cluster>.endpoints.<index>.weight" override an
  // endpoint's configured weight (1..128) until removed; a reload keeps the
  // override. check* names a key it cannot apply (no such endpoint, weight
  // out of range) and changes nothing; apply* sets the weights (configured
  // ones where no override remains) and publishes new balancers.
  absl::Status checkRuntime(const std::map<std::string, uint64_t>& runtime) const;
  void applyRuntime(const std::map<std::string, uint64_t>& runtime);

  ~ClusterManager();

 private:
  // The health machinery of one cluster and where its verdicts go.
  struct Runtime : public HealthCheckerCallbacks, public OutlierDetectorCallbacks {
    ClusterManager* manager = nullptr;
    std::string cluster;
    std::optional<HealthCheckOptions> health_check;
    std::optional<OutlierDetectionOptions> outlier_detection;
    std::unique_ptr<HealthChecker> checker;
    std::unique_ptr<OutlierDetector> detector;
    prometheus::Counter* ejections = nullptr;
    void onHostHealthChanged(const HostSharedPtr& host, bool healthy) override;
    void onHostEjectionChanged(const HostSharedPtr& host, bool ejected) override;
  };

  explicit ClusterManager(stats::Stats& stats) : stats_(stats) {}
  HttpClient& healthCheckClient(const Host& host);
  // Builds one cluster and its (not yet started) health machinery.
  absl::StatusOr<std::unique_ptr<Update::Built>> build(const config::v1::Cluster& proto,
                                                       const std::string& path);
  // The config of every cluster, checksum databases as synthetic clusters,
  // with the field path each came from.
  static std::vector<std::pair<config::v1::Cluster, std::string>> clusterConfigs(
      const config::v1::Bootstrap& bootstrap);
  void startRuntime(const std::string& name);

  stats::Stats& stats_;
  std::map<std::string, ClusterSharedPtr> clusters_;
  std::map<std::string, std::unique_ptr<config::v1::Cluster>> protos_;
  std::map<std::string, std::shared_ptr<const LoadBalancerFactory>> factories_;
  PublishCb publish_;
  RemoveCb remove_;
  std::map<std::string, std::unique_ptr<Runtime>> runtimes_;
  event::Dispatcher* main_dispatcher_ = nullptr;
  common::ThreadPool* file_pool_ = nullptr;
  // Health checks use their own clients on the main thread.
  std::map<std::string, std::unique_ptr<HttpClient>> health_clients_;
};

// A worker's view: one load balancer per cluster, rebuilt from each
// published factory. Worker thread only.
//
// Balancers belong to a cluster object, not a name: after a reload replaces
// or removes a cluster, requests still running on the old config (holding
// the old object) keep picking from the old balancer until the last of them
// lets go of it, while new requests use the new one.
class ThreadLocalClusters {
 public:
  explicit ThreadLocalClusters(uint64_t seed) : seed_(seed) {}
  void update(const ClusterSharedPtr& cluster,
              const std::shared_ptr<const LoadBalancerFactory>& factory);
  // The named cluster left the config: its balancer stays for the requests
  // that still hold the cluster.
  void remove(const std::string& cluster);
  // nullptr when the cluster has no host to offer.
  HostSharedPtr chooseHost(const Cluster& cluster, LoadBalancerContext* context);
  // Balancers kept for clusters no longer in the config (for tests).
  size_t retiredCount() const { return retired_.size(); }

 private:
  struct Entry {
    const Cluster* cluster = nullptr;
    // Expired once no config snapshot or request holds the cluster.
    std::weak_ptr<const Cluster> alive;
    std::unique_ptr<LoadBalancer> balancer;
  };
  void retire(Entry entry);
  void sweep();

  const uint64_t seed_;
  std::map<std::string, Entry, std::less<>> balancers_;
  std::vector<Entry> retired_;
};

}  // namespace modgate::upstream
