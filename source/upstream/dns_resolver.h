#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "source/common/network/address.h"

namespace modgate::upstream {

// Asynchronous host name resolution for upstream connections.
class DnsResolver {
 public:
  // Addresses (port set) in the order to try them, or the error.
  using ResolveCb = std::function<void(absl::StatusOr<std::vector<network::Address>> addresses)>;

  class Query {
   public:
    virtual ~Query() = default;
    // The callback will not run. Call at most once, before it ran.
    virtual void cancel() = 0;
  };

  virtual ~DnsResolver() = default;

  // Numeric hosts and cached answers run `cb` before returning and return
  // nullptr; otherwise `cb` runs later on the dispatcher and the returned
  // handle is valid until then.
  virtual Query* resolve(const std::string& host, uint16_t port, ResolveCb cb) = 0;
};

}  // namespace modgate::upstream
