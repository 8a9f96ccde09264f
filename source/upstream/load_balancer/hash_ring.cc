#include "source/upstream/load_balancer/hash_ring.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "source/upstream/load_balancer/xxhash64.h"

namespace modgate::upstream {

HashRing::HashRing(const std::vector<HashTableEntry>& entries, uint64_t minimum_ring_size,
                   uint64_t maximum_ring_size) {
  if (entries.empty()) {
    return;
  }
  double min_weight = 1.0;
  for (const HashTableEntry& entry : entries) {
    min_weight = std::min(min_weight, entry.normalized_weight);
  }
  // Points per unit of weight relative to the lightest host.
  double relative_total = 0.0;
  for (const HashTableEntry& entry : entries)
    relative_total += entry.normalized_weight / min_weight;
  double points_per_unit = static_cast<double>(minimum_ring_size);
  if (points_per_unit * relative_total > static_cast<double>(maximum_ring_size)) {
    points_per_unit = static_cast<double>(maximum_ring_size) / relative_total;
  }

  std::vector<uint64_t> counts(entries.size());
  uint64_t total = 0;
  for (size_t index = 0; index < entries.size(); ++index) {
    // Rounded per host, with no carry from one host to the next, so that a
    // host's count never depends on the others' (beyond the lightest).
    const double points = points_per_unit * entries[index].normalized_weight / min_weight;
    counts[index] = std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(points)));
    total += counts[index];
  }
  ring_.reserve(total);
  std::string point_key;
  for (size_t index = 0; index < entries.size(); ++index) {
    point_key.assign(entries[index].key);
    point_key.push_back('_');
    const size_t prefix_length = point_key.size();
    for (uint64_t i = 0; i < counts[index]; ++i) {
      point_key.resize(prefix_length);
      point_key.append(std::to_string(i));
      ring_.push_back(Point{xxHash64(point_key), static_cast<uint32_t>(index)});
    }
  }
  std::sort(ring_.begin(), ring_.end(), [&](const Point& a, const Point& b) {
    return a.hash != b.hash ? a.hash < b.hash : entries[a.index].key < entries[b.index].key;
  });
}

uint32_t HashRing::chooseIndex(uint64_t hash, uint32_t attempt) const {
  auto it = std::lower_bound(ring_.begin(), ring_.end(), hash,
                             [](const Point& point, uint64_t h) { return point.hash < h; });
  size_t position = it == ring_.end() ? 0 : static_cast<size_t>(it - ring_.begin());
  if (attempt > 0) {
    position = (position + attempt) % ring_.size();
  }
  return ring_[position].index;
}

}  // namespace modgate::upstream
