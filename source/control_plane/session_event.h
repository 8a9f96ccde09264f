#pragma once

#include <cstdint>
#include <string>

namespace modgate::control_plane {

// What a stream's protocol state machine learned from a request, for the
// fleet view and metrics.
struct SessionEvent {
  enum class Kind {
    kAck,   // the client applied the response with `nonce`
    kNack,  // ... rejected it; `message` says why
  };
  Kind kind;
  std::string type_url;
  // ACK: the version now applied. NACK: the version the client kept.
  std::string version;
  std::string nonce;
  std::string message;  // NACK: error_detail.message
  // The snapshot generation the (N)ACKed response was built from.
  uint64_t generation = 0;
};

}  // namespace modgate::control_plane
