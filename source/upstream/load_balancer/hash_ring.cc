#include "source/upstream/load_balancer/hash_ring.h"

#include <algorithm>
#include <cmath>
#include <numeric>
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
  const double scale =
      std::min(std::ceil(min_weight * static_cast<double>(minimum_ring_size)) / min_weight,
               static_cast<double>(maximum_ring_size));
  ring_.reserve(static_cast<size_t>(std::ceil(scale)));

  // Fractional point counts are carried from host to host, which makes the
  // counts depend on the order: walk the hosts by key for a stable ring.
  std::vector<uint32_t> order(entries.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return entries[a].key < entries[b].key; });

  double current_points = 0.0;
  double target_points = 0.0;
  std::string point_key;
  for (const uint32_t index : order) {
    const HashTableEntry& entry = entries[index];
    target_points += scale * entry.normalized_weight;
    point_key.assign(entry.key);
    point_key.push_back('_');
    const size_t prefix_length = point_key.size();
    for (uint64_t i = 0; current_points < target_points; ++i, ++current_points) {
      point_key.resize(prefix_length);
      point_key.append(std::to_string(i));
      ring_.push_back(Point{xxHash64(point_key), index});
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
