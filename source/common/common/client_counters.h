#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

namespace modgate::common {

// Per-client counters shared by every worker without a lock: a fixed table
// of atomics indexed by a hash of the client key (an address or a
// principal). Two clients that share a slot share a budget, which only
// ever makes a limit stricter; with 4096 slots and the handful of clients
// a module proxy sees, that is rare.
class ClientCounters {
 public:
  static constexpr size_t kSlots = 4096;

  static size_t slotOf(std::string_view client);

  // Connections: false (and nothing counted) if `slot` already holds `limit`.
  bool tryAcquire(size_t slot, uint32_t limit);
  void release(size_t slot);

  // Requests in the one-second window `unix_second`: counts one and says
  // whether the window's count is still within `limit`.
  bool countRequest(size_t slot, uint32_t limit, uint64_t unix_second);

 private:
  std::atomic<uint32_t> connections_[kSlots] = {};
  // (window second << 32) | count
  std::atomic<uint64_t> requests_[kSlots] = {};
};

// "1.2.3.4" from "1.2.3.4:5678", "::1" from "[::1]:5678".
std::string_view addressWithoutPort(std::string_view remote_address);

}  // namespace modgate::common
