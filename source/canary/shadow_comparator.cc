#include "source/canary/shadow_comparator.h"

#include <algorithm>
#include <functional>
#include <utility>

namespace modgate::canary {
namespace {

// NUL cannot occur in module paths, versions or suffixes: the joined id is
// unambiguous.
std::string idOf(const ArtifactKey& key) {
  std::string id;
  id.reserve(key.module.size() + key.version.size() + key.artifact.size() + 2);
  id += key.module;
  id += '\0';
  id += key.version;
  id += '\0';
  id += key.artifact;
  return id;
}

}  // namespace

ShadowComparator::ShadowComparator(ShadowComparatorOptions options, ShadowListener& listener)
    : options_([&] {
        options.shards = std::max<size_t>(options.shards, 1);
        options.max_entries = std::max<size_t>(options.max_entries, 1);
        return options;
      }()),
      shard_capacity_(std::max<size_t>(options_.max_entries / options_.shards, 1)),
      listener_(listener),
      shards_(new Shard[options_.shards]) {}

ShadowComparator::Report ShadowComparator::reportServed(const ArtifactKey& key,
                                                        const Sha256Digest& digest,
                                                        MonotonicTime now) {
  return report(key, digest, /*served=*/true, now);
}

ShadowComparator::Report ShadowComparator::reportShadow(const ArtifactKey& key,
                                                        const Sha256Digest& digest,
                                                        MonotonicTime now) {
  return report(key, digest, /*served=*/false, now);
}

void ShadowComparator::expireLocked(Shard& shard, MonotonicTime now) {
  while (!shard.entries.empty() && now - shard.entries.front().inserted >= options_.ttl) {
    shard.index.erase(shard.entries.front().id);
    shard.entries.pop_front();
    expired_.fetch_add(1, std::memory_order_relaxed);
  }
}

ShadowComparator::Report ShadowComparator::report(const ArtifactKey& key,
                                                  const Sha256Digest& digest, bool served,
                                                  MonotonicTime now) {
  std::string id = idOf(key);
  Shard& shard = shards_[std::hash<std::string>{}(id) % options_.shards];
  ShadowComparison comparison;
  {
    std::lock_guard<std::mutex> lock(shard.mutex);
    expireLocked(shard, now);
    auto found = shard.index.find(id);
    if (found == shard.index.end()) {
      if (shard.entries.size() >= shard_capacity_) {
        shard.index.erase(shard.entries.front().id);
        shard.entries.pop_front();
        evicted_.fetch_add(1, std::memory_order_relaxed);
      }
      Entry entry{id, key, std::nullopt, std::nullopt, now};
      (served ? entry.served : entry.shadow) = digest;
      shard.entries.push_back(std::move(entry));
      shard.index.emplace(std::move(id), std::prev(shard.entries.end()));
      return Report::kPending;
    }
    Entry& entry = *found->second;
    const std::optional<Sha256Digest>& other = served ? entry.shadow : entry.served;
    if (!other.has_value()) {
      // The same side again (two requests for one artifact): keep the newer.
      (served ? entry.served : entry.shadow) = digest;
      return Report::kPending;
    }
    comparison.key = std::move(entry.key);
    comparison.served = served ? digest : *entry.served;
    comparison.shadow = served ? *entry.shadow : digest;
    shard.entries.erase(found->second);
    shard.index.erase(found);
  }
  // Outside the lock: the listener logs, and must not stall other workers.
  listener_.onComparison(comparison);
  return comparison.matched() ? Report::kMatched : Report::kMismatched;
}

size_t ShadowComparator::pending(MonotonicTime now) {
  size_t total = 0;
  for (size_t i = 0; i < options_.shards; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mutex);
    expireLocked(shards_[i], now);
    total += shards_[i].entries.size();
  }
  return total;
}

}  // namespace modgate::canary
