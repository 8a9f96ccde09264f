#include "source/common/common/client_counters.h"

#include <algorithm>
#include <functional>

namespace modgate::common {

size_t ClientCounters::slotOf(std::string_view client) {
  return std::hash<std::string_view>()(client) % kSlots;
}

bool ClientCounters::tryAcquire(size_t slot, uint32_t limit) {
  uint32_t current = connections_[slot].load(std::memory_order_relaxed);
  do {
    if (current >= limit) return false;
  } while (
      !connections_[slot].compare_exchange_weak(current, current + 1, std::memory_order_relaxed));
  return true;
}

void ClientCounters::release(size_t slot) {
  connections_[slot].fetch_sub(1, std::memory_order_relaxed);
}

bool ClientCounters::countRequest(size_t slot, uint32_t limit, uint64_t unix_second) {
  uint64_t old = requests_[slot].load(std::memory_order_relaxed);
  uint64_t next;
  do {
    const uint64_t window = old >> 32;
    const uint64_t count = window == (unix_second & 0xffffffff) ? (old & 0xffffffff) : 0;
    next = ((unix_second & 0xffffffff) << 32) | std::min<uint64_t>(count + 1, 0xffffffff);
  } while (!requests_[slot].compare_exchange_weak(old, next, std::memory_order_relaxed));
  return (next & 0xffffffff) <= limit;
}

std::string_view addressWithoutPort(std::string_view remote_address) {
  if (!remote_address.empty() && remote_address.front() == '[') {
    size_t end = remote_address.find(']');
    return end == std::string_view::npos ? remote_address : remote_address.substr(1, end - 1);
  }
  size_t colon = remote_address.rfind(':');
  return colon == std::string_view::npos ? remote_address : remote_address.substr(0, colon);
}

}  // namespace modgate::common
