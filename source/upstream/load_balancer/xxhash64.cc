#include "source/upstream/load_balancer/xxhash64.h"

#include <xxhash.h>

namespace modgate::upstream {

uint64_t xxHash64(std::string_view data, uint64_t seed) {
  return XXH64(data.data(), data.size(), seed);
}

}  // namespace modgate::upstream
