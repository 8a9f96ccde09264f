#include "source/filters/goproxy/response_head_cache.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace modgate::filters::goproxy {
namespace {

std::shared_ptr<const cache::Entry> MakeEntry(const std::string& key) {
  auto entry = std::make_shared<cache::Entry>();
  entry->key = key;
  entry->meta.content_type = "application/json";
  entry->meta.body_size = 60;
  entry->meta.etag = "\"0123456789abcdef0123456789abcdef\"";
  return entry;
}

std::shared_ptr<const http::HeaderMap> MakeFields(const std::string& etag) {
  auto fields = std::make_shared<http::HeaderMap>();
  fields->add("content-type", "application/json");
  fields->add("content-length", "60");
  fields->add("etag", etag);
  return fields;
}

class ResponseHeadCacheTest : public ::testing::Test {
 protected:
  double hits() const { return stats_.response_head_hit->Value(); }
  double misses() const { return stats_.response_head_miss->Value(); }
  double evictions() const { return stats_.response_head_evictions->Value(); }
  double gaugeBytes() const { return stats_.response_head_bytes->Value(); }

  stats::Stats stats_;
};

TEST_F(ResponseHeadCacheTest, HitReturnsTheStoredFieldsAndCounts) {
  ResponseHeadCache heads(1 << 20, &stats_);
  auto entry = MakeEntry("example.com/m/@v/v1.0.0.info");
  EXPECT_EQ(heads.find(entry, true), nullptr);
  EXPECT_EQ(misses(), 1);
  auto fields = MakeFields(entry->meta.etag);
  heads.insert(entry, true, fields);
  EXPECT_EQ(heads.find(entry, true), fields);
  EXPECT_EQ(heads.find(entry, true), fields);
  EXPECT_EQ(hits(), 2);
  EXPECT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads.bytes(), fields->byteSize() + ResponseHeadCache::kSlotOverheadBytes);
  EXPECT_EQ(gaugeBytes(), static_cast<double>(heads.bytes()));
}

TEST_F(ResponseHeadCacheTest, ImmutabilityIsPartOfTheKey) {
  // cache-control differs for an immutable version: never the other's fields.
  ResponseHeadCache heads(1 << 20, &stats_);
  auto entry = MakeEntry("example.com/m/@v/v1.0.0.info");
  heads.insert(entry, true, MakeFields("\"a\""));
  EXPECT_EQ(heads.find(entry, false), nullptr);
  auto mutable_fields = MakeFields("\"a\"");
  heads.insert(entry, false, mutable_fields);
  EXPECT_EQ(heads.find(entry, false), mutable_fields);
  EXPECT_NE(heads.find(entry, true), nullptr);
  EXPECT_EQ(heads.size(), 2u);
}

TEST_F(ResponseHeadCacheTest, ReplacedEntryIsAMiss) {
  // A newer version of the same key is a new Entry object: its own fields,
  // never the old ones.
  ResponseHeadCache heads(1 << 20, &stats_);
  auto old_entry = MakeEntry("example.com/m/@v/v1.0.0.info");
  heads.insert(old_entry, true, MakeFields("\"old\""));
  auto new_entry = MakeEntry("example.com/m/@v/v1.0.0.info");
  EXPECT_EQ(heads.find(new_entry, true), nullptr);
  auto new_fields = MakeFields("\"new\"");
  heads.insert(new_entry, true, new_fields);
  EXPECT_EQ(heads.find(new_entry, true), new_fields);
}

TEST_F(ResponseHeadCacheTest, EvictedEntryAtAReusedAddressIsAMiss) {
  // The cache let the entry go (evicted or replaced) and a new Entry landed
  // at the same address: the slot must not match it. An allocator may or
  // may not hand the address out again (ASan never does), so the reuse is
  // made certain: a second owner (its own control block) of an object at
  // the very address the slot was keyed by.
  ResponseHeadCache heads(1 << 20, &stats_);
  auto storage = std::make_shared<cache::Entry>();
  storage->key = "example.com/m/@v/v1.0.0.info";
  std::shared_ptr<const cache::Entry> gone(std::make_shared<int>(0), storage.get());
  heads.insert(gone, true, MakeFields("\"gone\""));
  EXPECT_NE(heads.find(gone, true), nullptr);
  gone.reset();
  std::shared_ptr<const cache::Entry> newcomer(std::make_shared<int>(1), storage.get());
  EXPECT_EQ(heads.find(newcomer, true), nullptr);
  // Its own fields replace the dead slot.
  auto fields = MakeFields("\"newcomer\"");
  heads.insert(newcomer, true, fields);
  EXPECT_EQ(heads.find(newcomer, true), fields);
  EXPECT_EQ(heads.size(), 1u);
}

TEST_F(ResponseHeadCacheTest, BoundedByBytesLeastRecentlyUsedOut) {
  auto fields = MakeFields("\"0123456789abcdef0123456789abcdef\"");
  const size_t slot = fields->byteSize() + ResponseHeadCache::kSlotOverheadBytes;
  ResponseHeadCache heads(3 * slot, &stats_);
  auto a = MakeEntry("a"), b = MakeEntry("b"), c = MakeEntry("c"), d = MakeEntry("d");
  heads.insert(a, true, fields);
  heads.insert(b, true, fields);
  heads.insert(c, true, fields);
  EXPECT_EQ(heads.bytes(), 3 * slot);
  EXPECT_NE(heads.find(a, true), nullptr);  // a is now the most recent
  heads.insert(d, true, fields);            // b goes
  EXPECT_EQ(heads.size(), 3u);
  EXPECT_LE(heads.bytes(), 3 * slot);
  EXPECT_EQ(evictions(), 1);
  EXPECT_EQ(heads.find(b, true), nullptr);
  EXPECT_NE(heads.find(a, true), nullptr);
  EXPECT_NE(heads.find(c, true), nullptr);
  EXPECT_NE(heads.find(d, true), nullptr);
  EXPECT_EQ(gaugeBytes(), static_cast<double>(heads.bytes()));
}

TEST_F(ResponseHeadCacheTest, FieldsLargerThanTheBoundAreNotKept) {
  ResponseHeadCache heads(ResponseHeadCache::kSlotOverheadBytes + 10, &stats_);
  auto entry = MakeEntry("big");
  heads.insert(entry, true, MakeFields(std::string(100, 'e')));
  EXPECT_EQ(heads.size(), 0u);
  EXPECT_EQ(heads.bytes(), 0u);
  EXPECT_EQ(heads.find(entry, true), nullptr);
}

TEST_F(ResponseHeadCacheTest, ReinsertReplacesTheSlotAndGaugeFollowsTheCache) {
  {
    ResponseHeadCache heads(1 << 20, &stats_);
    auto entry = MakeEntry("x");
    heads.insert(entry, true, MakeFields("\"1\""));
    auto second = MakeFields("\"22\"");
    heads.insert(entry, true, second);
    EXPECT_EQ(heads.size(), 1u);
    EXPECT_EQ(heads.find(entry, true), second);
    EXPECT_EQ(gaugeBytes(), static_cast<double>(heads.bytes()));
  }
  // A worker's cache going away takes its bytes out of the shared gauge.
  EXPECT_EQ(gaugeBytes(), 0);
}

TEST_F(ResponseHeadCacheTest, WorksWithoutStats) {
  ResponseHeadCache heads(1 << 20, nullptr);
  auto entry = MakeEntry("x");
  EXPECT_EQ(heads.find(entry, true), nullptr);
  heads.insert(entry, true, MakeFields("\"1\""));
  EXPECT_NE(heads.find(entry, true), nullptr);
}

}  // namespace
}  // namespace modgate::filters::goproxy
