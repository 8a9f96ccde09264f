#pragma once

#include <google/protobuf/duration.pb.h>

#include <chrono>
#include <cstdint>

namespace modgate::common {

// Wall-clock milliseconds since the epoch: what cache entries record, so
// that expiry survives a restart (monotonic time does not).
inline int64_t wallClockUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A config Duration in milliseconds.
inline std::chrono::milliseconds toMilliseconds(const google::protobuf::Duration& duration) {
  return std::chrono::milliseconds(duration.seconds() * 1000 + duration.nanos() / 1000000);
}

// For fields whose zero (or absence) means "the default": `fallback` then.
inline std::chrono::milliseconds toMillisecondsOr(const google::protobuf::Duration& duration,
                                                  std::chrono::milliseconds fallback) {
  std::chrono::milliseconds ms = toMilliseconds(duration);
  return ms.count() > 0 ? ms : fallback;
}

}  // namespace modgate::common
