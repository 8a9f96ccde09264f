#pragma once

#include <string_view>

#include "source/upstream/http_client.h"

namespace modgate::upstream {

// A request waiting in a ConnectionPool for a connection another request is
// opening. Exactly one call follows ConnectionPool::wait() unless
// cancelWait() comes first; it may come from inside another request's
// callbacks, so implementations only take note and act later.
class PoolWaiter {
 public:
  virtual ~PoolWaiter() = default;
  // Try the pool again (there may be an HTTP/2 connection with room now).
  virtual void onPoolReady() = 0;
  // The attempt waited for failed: so would ours.
  virtual void onPoolFailure(FailureReason reason, std::string_view detail) = 0;
};

}  // namespace modgate::upstream
