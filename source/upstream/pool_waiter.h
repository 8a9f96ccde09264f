#pragma once

#include <string_view>

#include "source/upstream/client_connection.h"
#include "source/upstream/http_client.h"

namespace modgate::upstream {

// A request waiting in a ConnectionPool: for a connection another request is
// opening (ConnectionPool::wait), or for one to come free under the
// connection circuit breakers (ConnectionPool::waitForConnection). Exactly
// one call follows either unless cancelWait() comes first; it may come from
// inside another request's callbacks, so implementations only take note and
// act later.
class PoolWaiter {
 public:
  virtual ~PoolWaiter() = default;
  // Try the pool again (there may be an HTTP/2 connection with room now, or
  // room under the limits for a new connection).
  virtual void onPoolReady() = 0;
  // waitForConnection only: an HTTP/1.1 connection another request just
  // finished with, handed over directly so that no newcomer takes it first.
  // It may have closed by the time the waiter acts.
  virtual void onPoolConnection(ClientConnectionPtr connection) = 0;
  // The attempt waited for failed: so would ours.
  virtual void onPoolFailure(FailureReason reason, std::string_view detail) = 0;
};

}  // namespace modgate::upstream
