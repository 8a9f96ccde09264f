#include "source/upstream/cluster/cluster_manager.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "source/common/event/dispatcher_impl.h"

namespace modgate::upstream {
namespace {

config::v1::Cluster makeCluster(const std::string& name, std::vector<std::string> urls,
                                std::vector<uint32_t> weights = {}) {
  config::v1::Cluster cluster;
  cluster.set_name(name);
  for (size_t i = 0; i < urls.size(); ++i) {
    auto* endpoint = cluster.add_endpoints();
    endpoint->set_url(urls[i]);
    if (i < weights.size()) endpoint->mutable_weight()->set_value(weights[i]);
  }
  return cluster;
}

class ClusterManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    *bootstrap_.add_clusters() = makeCluster("a", {"http://127.0.0.1:1"});
    *bootstrap_.add_clusters() =
        makeCluster("b", {"http://127.0.0.1:2", "http://127.0.0.1:3"}, {1, 1});
    *bootstrap_.add_clusters() = makeCluster("c", {"http://127.0.0.1:4"});
    auto manager = ClusterManager::create(bootstrap_, stats_);
    ASSERT_TRUE(manager.ok()) << manager.status();
    manager_ = std::move(*manager);
    manager_->setPublisher(
        [this](const ClusterSharedPtr& cluster, std::shared_ptr<const LoadBalancerFactory>) {
          published_.push_back(cluster->name());
        },
        [this](const std::string& name) { removed_.push_back(name); });
    manager_->start(dispatcher_, file_pool_);
  }

  event::DispatcherImpl dispatcher_{"test"};
  common::ThreadPool file_pool_{"test-files", 1};
  stats::Stats stats_;
  config::v1::Bootstrap bootstrap_;
  std::unique_ptr<ClusterManager> manager_;
  std::vector<std::string> published_;
  std::vector<std::string> removed_;
};

TEST_F(ClusterManagerTest, SameConfigKeepsEveryClusterObject) {
  auto before = manager_->clusters();
  auto update = manager_->prepare(bootstrap_);
  ASSERT_TRUE(update.ok()) << update.status();
  EXPECT_EQ((*update)->kept, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE((*update)->added.empty());
  EXPECT_TRUE((*update)->replaced.empty());
  EXPECT_TRUE((*update)->reweighted.empty());
  EXPECT_TRUE((*update)->removed.empty());
  manager_->commit(std::move(*update));
  EXPECT_EQ(manager_->clusters(), before);
  EXPECT_TRUE(published_.empty());
  EXPECT_TRUE(removed_.empty());
}

TEST_F(ClusterManagerTest, DiffsKeptReweightedReplacedAddedRemoved) {
  auto before = manager_->clusters();
  HostSharedPtr b_host = before.at("b")->hosts()[0];
  // Host state that must survive an in-place weight change.
  Cluster::endpoint(*b_host).health_check_failed = true;

  config::v1::Bootstrap next;
  *next.add_clusters() = makeCluster("a", {"http://127.0.0.1:1"});  // kept
  *next.add_clusters() = makeCluster("b", {"http://127.0.0.1:2", "http://127.0.0.1:3"}, {7, 3});
  *next.add_clusters() = makeCluster("c", {"http://127.0.0.1:5"});  // replaced
  *next.add_clusters() = makeCluster("d", {"http://127.0.0.1:6"});  // added
  next.mutable_clusters(1)->mutable_endpoints(1)->set_priority(1);
  auto update = manager_->prepare(next);
  ASSERT_TRUE(update.ok()) << update.status();
  EXPECT_EQ((*update)->kept, std::vector<std::string>{"a"});
  EXPECT_EQ((*update)->reweighted, std::vector<std::string>{"b"});
  EXPECT_EQ((*update)->replaced, std::vector<std::string>{"c"});
  EXPECT_EQ((*update)->added, std::vector<std::string>{"d"});
  EXPECT_TRUE((*update)->removed.empty());
  // Nothing changes before the commit.
  EXPECT_EQ(manager_->clusters(), before);
  EXPECT_EQ(b_host->weight.load(), 1u);

  manager_->commit(std::move(*update));
  const auto& after = manager_->clusters();
  EXPECT_EQ(after.at("a"), before.at("a"));
  EXPECT_EQ(after.at("b"), before.at("b"));
  EXPECT_NE(after.at("c"), before.at("c"));
  ASSERT_EQ(after.count("d"), 1u);
  EXPECT_EQ(b_host->weight.load(), 7u);
  EXPECT_EQ(after.at("b")->hosts()[1]->weight.load(), 3u);
  EXPECT_EQ(after.at("b")->hosts()[1]->priority.load(), 1u);
  EXPECT_TRUE(Cluster::endpoint(*b_host).health_check_failed.load());
  // New and changed clusters reach the workers; the kept one needs nothing.
  std::sort(published_.begin(), published_.end());
  EXPECT_EQ(published_, (std::vector<std::string>{"b", "c", "d"}));
  EXPECT_TRUE(removed_.empty());
}

TEST_F(ClusterManagerTest, RemovedClusterIsAnnouncedAfterTheOthers) {
  config::v1::Bootstrap next;
  *next.add_clusters() = makeCluster("a", {"http://127.0.0.1:1"});
  *next.add_clusters() = makeCluster("e", {"http://127.0.0.1:7"});
  auto update = manager_->prepare(next);
  ASSERT_TRUE(update.ok()) << update.status();
  EXPECT_EQ((*update)->removed, (std::vector<std::string>{"b", "c"}));
  manager_->commit(std::move(*update));
  EXPECT_EQ(manager_->clusters().size(), 2u);
  EXPECT_EQ(manager_->get("b"), nullptr);
  EXPECT_EQ(published_, std::vector<std::string>{"e"});
  EXPECT_EQ(removed_, (std::vector<std::string>{"b", "c"}));
}

TEST_F(ClusterManagerTest, BadClusterRejectsTheWholeUpdateWithItsField) {
  auto before = manager_->clusters();
  config::v1::Bootstrap next = bootstrap_;
  *next.add_clusters() = makeCluster("d", {"ftp://nowhere"});
  auto update = manager_->prepare(next);
  ASSERT_FALSE(update.ok());
  EXPECT_NE(update.status().message().find("clusters[3].endpoints[0].url"), std::string::npos)
      << update.status();
  EXPECT_EQ(manager_->clusters(), before);
  EXPECT_TRUE(published_.empty());
}

TEST_F(ClusterManagerTest, SumdbClusterFollowsItsUrl) {
  config::v1::Bootstrap next = bootstrap_;
  auto* db = next.add_sumdbs();
  db->set_name("sum.example.com");
  db->set_url("http://127.0.0.1:8");
  auto update = manager_->prepare(next);
  ASSERT_TRUE(update.ok()) << update.status();
  EXPECT_EQ((*update)->added, std::vector<std::string>{"sumdb_sum.example.com"});
  manager_->commit(std::move(*update));
  ASSERT_NE(manager_->get("sumdb_sum.example.com"), nullptr);

  db->set_url("http://127.0.0.1:9");
  update = manager_->prepare(next);
  ASSERT_TRUE(update.ok()) << update.status();
  EXPECT_EQ((*update)->replaced, std::vector<std::string>{"sumdb_sum.example.com"});
}

// Workers: requests still holding a replaced or removed cluster pick from
// its old balancer; new requests from the new one; the old balancer goes
// once nobody holds the old cluster.
TEST(ThreadLocalClustersTest, OldClusterObjectKeepsItsBalancerUntilReleased) {
  stats::Stats stats;
  config::v1::Bootstrap first;
  *first.add_clusters() = makeCluster("a", {"http://127.0.0.1:1"});
  auto manager = ClusterManager::create(first, stats);
  ASSERT_TRUE(manager.ok());
  ClusterSharedPtr old_cluster = (*manager)->get("a");

  ThreadLocalClusters workers(42);
  workers.update(old_cluster, (*manager)->currentFactory("a"));
  EXPECT_EQ(workers.chooseHost(*old_cluster, nullptr), old_cluster->hosts()[0]);

  config::v1::Bootstrap second;
  *second.add_clusters() = makeCluster("a", {"http://127.0.0.1:2"});
  auto update = (*manager)->prepare(second);
  ASSERT_TRUE(update.ok());
  (*manager)->commit(std::move(*update));
  ClusterSharedPtr new_cluster = (*manager)->get("a");
  ASSERT_NE(new_cluster, old_cluster);
  workers.update(new_cluster, (*manager)->currentFactory("a"));

  EXPECT_EQ(workers.chooseHost(*new_cluster, nullptr), new_cluster->hosts()[0]);
  EXPECT_EQ(workers.chooseHost(*old_cluster, nullptr), old_cluster->hosts()[0]);
  EXPECT_EQ(workers.retiredCount(), 1u);

  // Removing the name keeps the balancer for holders of the new object.
  workers.remove("a");
  EXPECT_EQ(workers.chooseHost(*new_cluster, nullptr), new_cluster->hosts()[0]);
  EXPECT_EQ(workers.retiredCount(), 2u);

  HostSharedPtr old_host = old_cluster->hosts()[0];
  old_cluster.reset();
  new_cluster.reset();
  config::v1::Bootstrap third;
  *third.add_clusters() = makeCluster("z", {"http://127.0.0.1:3"});
  update = (*manager)->prepare(third);
  ASSERT_TRUE(update.ok());
  (*manager)->commit(std::move(*update));
  workers.update((*manager)->get("z"), (*manager)->currentFactory("z"));
  EXPECT_EQ(workers.retiredCount(), 0u);
}

}  // namespace
}  // namespace modgate::upstream
