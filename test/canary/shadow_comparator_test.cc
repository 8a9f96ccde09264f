#include "source/canary/shadow_comparator.h"

#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace modgate::canary {
namespace {

using crypto::Sha256;
using std::chrono::milliseconds;
using std::chrono::seconds;

const MonotonicTime kStart = MonotonicTime() + std::chrono::hours(1000);

class RecordingListener : public ShadowListener {
 public:
  void onComparison(const ShadowComparison& comparison) override {
    std::lock_guard<std::mutex> lock(mutex);
    comparisons.push_back(comparison);
  }
  std::vector<ShadowComparison> mismatches() {
    std::vector<ShadowComparison> out;
    for (const ShadowComparison& c : comparisons) {
      if (!c.matched()) out.push_back(c);
    }
    return out;
  }
  std::mutex mutex;
  std::vector<ShadowComparison> comparisons;
};

const ArtifactKey kZip{"example.com/mod", "v1.2.3", "zip"};
const Sha256Digest kGood = Sha256::hash("PK good zip");
const Sha256Digest kTampered = Sha256::hash("PK tampered zip");

TEST(ShadowComparatorTest, MatchServedFirst) {
  RecordingListener listener;
  ShadowComparator comparator({}, listener);
  EXPECT_EQ(comparator.reportServed(kZip, kGood, kStart), ShadowComparator::Report::kPending);
  EXPECT_EQ(comparator.pending(kStart), 1u);
  EXPECT_EQ(comparator.reportShadow(kZip, kGood, kStart), ShadowComparator::Report::kMatched);
  ASSERT_EQ(listener.comparisons.size(), 1u);
  EXPECT_TRUE(listener.comparisons[0].matched());
  EXPECT_EQ(comparator.pending(kStart), 0u);
}

TEST(ShadowComparatorTest, MismatchReportedOnceInEitherOrder) {
  for (bool served_first : {true, false}) {
    RecordingListener listener;
    ShadowComparator comparator({}, listener);
    if (served_first) {
      comparator.reportServed(kZip, kGood, kStart);
      EXPECT_EQ(comparator.reportShadow(kZip, kTampered, kStart + milliseconds(5)),
                ShadowComparator::Report::kMismatched);
    } else {
      comparator.reportShadow(kZip, kTampered, kStart);
      EXPECT_EQ(comparator.reportServed(kZip, kGood, kStart + milliseconds(5)),
                ShadowComparator::Report::kMismatched);
    }
    std::vector<ShadowComparison> mismatches = listener.mismatches();
    ASSERT_EQ(mismatches.size(), 1u);
    EXPECT_EQ(mismatches[0].key.module, "example.com/mod");
    EXPECT_EQ(mismatches[0].key.version, "v1.2.3");
    EXPECT_EQ(mismatches[0].key.artifact, "zip");
    // Served and shadow stay on their sides whatever the order.
    EXPECT_EQ(mismatches[0].served, kGood);
    EXPECT_EQ(mismatches[0].shadow, kTampered);
    // The pair is gone: a late duplicate starts a new pair, not a new report.
    EXPECT_EQ(comparator.reportShadow(kZip, kTampered, kStart + milliseconds(10)),
              ShadowComparator::Report::kPending);
    EXPECT_EQ(listener.comparisons.size(), 1u);
  }
}

TEST(ShadowComparatorTest, ArtifactsAreKeptApart) {
  RecordingListener listener;
  ShadowComparator comparator({}, listener);
  ArtifactKey mod{"example.com/mod", "v1.2.3", "mod"};
  ArtifactKey other_version{"example.com/mod", "v1.2.4", "zip"};
  comparator.reportServed(kZip, kGood, kStart);
  comparator.reportShadow(mod, kTampered, kStart);
  comparator.reportShadow(other_version, kTampered, kStart);
  EXPECT_TRUE(listener.comparisons.empty());
  EXPECT_EQ(comparator.pending(kStart), 3u);
}

TEST(ShadowComparatorTest, RepeatedSideKeepsOnePendingEntry) {
  RecordingListener listener;
  ShadowComparator comparator({}, listener);
  comparator.reportServed(kZip, kGood, kStart);
  comparator.reportServed(kZip, kGood, kStart);
  EXPECT_EQ(comparator.pending(kStart), 1u);
  EXPECT_EQ(comparator.reportShadow(kZip, kGood, kStart), ShadowComparator::Report::kMatched);
  EXPECT_EQ(listener.comparisons.size(), 1u);
}

TEST(ShadowComparatorTest, UnpairedHalvesExpire) {
  RecordingListener listener;
  ShadowComparatorOptions options;
  options.ttl = seconds(30);
  ShadowComparator comparator(options, listener);
  comparator.reportServed(kZip, kGood, kStart);
  EXPECT_EQ(comparator.pending(kStart + seconds(29)), 1u);
  EXPECT_EQ(comparator.pending(kStart + seconds(30)), 0u);
  EXPECT_EQ(comparator.expired(), 1u);
  // The shadow arriving after expiry has nothing to pair with.
  EXPECT_EQ(comparator.reportShadow(kZip, kTampered, kStart + seconds(31)),
            ShadowComparator::Report::kPending);
  EXPECT_TRUE(listener.comparisons.empty());
}

TEST(ShadowComparatorTest, SizeIsBounded) {
  RecordingListener listener;
  ShadowComparatorOptions options;
  options.max_entries = 4;
  options.shards = 1;
  ShadowComparator comparator(options, listener);
  for (int i = 0; i < 10; ++i) {
    comparator.reportServed({"example.com/m", "v1.0." + std::to_string(i), "zip"}, kGood,
                            kStart + milliseconds(i));
  }
  EXPECT_EQ(comparator.pending(kStart + seconds(1)), 4u);
  EXPECT_EQ(comparator.evicted(), 6u);
  // The oldest went first: v1.0.0 is gone, v1.0.9 still pairs.
  EXPECT_EQ(comparator.reportShadow({"example.com/m", "v1.0.0", "zip"}, kGood, kStart + seconds(1)),
            ShadowComparator::Report::kPending);
  EXPECT_EQ(comparator.reportShadow({"example.com/m", "v1.0.9", "zip"}, kGood, kStart + seconds(1)),
            ShadowComparator::Report::kMatched);
}

TEST(ShadowComparatorTest, ConcurrentPairsEachReportedOnce) {
  RecordingListener listener;
  ShadowComparatorOptions options;
  options.max_entries = 100000;
  ShadowComparator comparator(options, listener);
  constexpr int kArtifacts = 5000;
  // Two threads serve, two threads shadow, over interleaved halves.
  auto run = [&](bool served, int parity) {
    for (int i = parity; i < kArtifacts; i += 2) {
      ArtifactKey key{"example.com/m" + std::to_string(i % 37), "v0.0." + std::to_string(i), "zip"};
      Sha256Digest digest = served || i % 100 != 0 ? kGood : kTampered;
      if (served) {
        comparator.reportServed(key, digest, kStart);
      } else {
        comparator.reportShadow(key, digest, kStart);
      }
    }
  };
  std::vector<std::thread> threads;
  for (bool served : {true, false}) {
    for (int parity : {0, 1}) threads.emplace_back(run, served, parity);
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(listener.comparisons.size(), static_cast<size_t>(kArtifacts));
  EXPECT_EQ(listener.mismatches().size(), static_cast<size_t>(kArtifacts / 100));
  EXPECT_EQ(comparator.pending(kStart), 0u);
}

}  // namespace
}  // namespace modgate::canary
