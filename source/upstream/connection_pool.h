#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <string_view>

#include "source/common/event/dispatcher.h"
#include "source/upstream/client_connection.h"
#include "source/upstream/http2_client_connection.h"
#include "source/upstream/pool_waiter.h"

namespace modgate::upstream {

// The connections to one origin.
//
// HTTP/1.1: idle keep-alive connections. A connection comes back only after
// a complete, cleanly framed response that did not ask to close; it leaves
// when taken, when it closes or receives unexpected bytes, or after
// `idle_timeout`. At most `max_idle` are kept (the least recently used go).
//
// HTTP/2: the pool owns every h2 connection and hands out streams on them;
// a connection stays while it is open (it closes itself after
// `idle_timeout` without streams, or after a GOAWAY once its streams end).
//
// While a connection that may turn out to be HTTP/2 is being set up,
// requests that find no room wait for it (PoolWaiter) rather than each
// opening a connection of their own: a burst of requests to a fresh h2
// origin shares one connection.
//
// Connection circuit breakers (ConnectionLimits, shared by every worker):
// each connection opened under limits holds a slot (a ResourceHandle) from
// its connect until it closes. A request that finds no room waits for a
// connection of this pool to come free: an HTTP/1.1 connection is handed to
// the first waiter when its request ends, a closing connection's slot wakes
// the first waiter to open one, an ended HTTP/2 stream wakes it to take the
// free stream. As in Envoy, a pool without any connection of its own may
// always open one, so that its waiters never depend on other pools (other
// endpoints, other workers) to be woken; the limits can thus be exceeded by
// one connection per worker and endpoint.
class ConnectionPool {
 public:
  // `http2_possible`: connections to this origin may speak HTTP/2 (ALPN h2
  // offered, or h2c prior knowledge).
  ConnectionPool(event::Dispatcher& dispatcher, uint32_t max_idle,
                 std::chrono::milliseconds idle_timeout, bool http2_possible = false);
  ~ConnectionPool();

  // A stream on an HTTP/2 connection with room; else (if `idle_http1`) the
  // most recently used open idle HTTP/1.1 connection; else nullptr.
  ClientConnectionPtr acquire(bool idle_http1 = true);
  // Takes back what acquire() or a connect gave: an HTTP/1.1 connection is
  // kept if reusable() and there is room, else closed; an HTTP/2 stream is
  // dropped (reset if it had not ended).
  void release(ClientConnectionPtr connection);

  // Adopts a new HTTP/2 connection and returns a stream on it for the
  // request that opened it; waiters are woken to take the rest.
  ClientConnectionPtr addHttp2(std::unique_ptr<Http2ClientConnection> connection);

  // Connection attempts of requests, so that others may wait for them.
  void connectStarted();
  // `http2`: the attempt gave an HTTP/2 connection (already added).
  void connectSucceeded(bool http2);
  void connectFailed(FailureReason reason, std::string_view detail);
  void connectAbandoned();

  // True if an attempt under way may bring an HTTP/2 connection with room
  // for one more waiter.
  bool canWait() const;
  void wait(PoolWaiter& waiter);
  // Leaves either wait.
  void cancelWait(PoolWaiter& waiter);

  // A slot for a new connection under `limits` (which limit connections),
  // or nullptr when one of them is full and this pool has a connection of
  // its own that will come free. The slot goes with the connection and is
  // released when it closes.
  ResourceHandlePtr connectionSlot(const ConnectionLimits& limits);
  // Waits for a connection to come free (connectionSlot said no). `front`:
  // a waiter that was woken but lost the race keeps its place.
  void waitForConnection(PoolWaiter& waiter, bool front);
  // Connections of this pool holding slots (open or being opened).
  uint32_t limitedConnections() const { return limited_connections_; }

  size_t idleCount() const { return idle_.size(); }
  size_t http2Count() const { return http2_.size(); }
  size_t bufferedResponseBytes() const;

 private:
  struct Idle {
    ClientConnectionPtr connection;
    event::TimerPtr timer;
  };
  void remove(ClientConnection* connection);
  void removeHttp2(Http2ClientConnection* connection);
  void discard(ClientConnectionPtr connection);
  void retire(event::TimerPtr timer);
  void wakeWaiters();
  // A slot was released or an HTTP/2 stream ended: the first connection
  // waiter tries again.
  void wakeConnectionWaiter();

  event::Dispatcher& dispatcher_;
  const uint32_t max_idle_;
  const std::chrono::milliseconds idle_timeout_;
  const bool http2_possible_;
  // The origin answered ALPN with http/1.1: nothing to wait for.
  bool http1_only_ = false;
  uint32_t pending_connects_ = 0;
  std::list<Idle> idle_;                                     // most recently used first
  std::list<std::unique_ptr<Http2ClientConnection>> http2_;  // oldest first
  std::list<PoolWaiter*> waiters_;
  std::list<PoolWaiter*> connection_waiters_;
  uint32_t limited_connections_ = 0;
  // Slots outlive the pool when their connection is deleted later: they
  // reach it through this token only while it exists.
  std::shared_ptr<ConnectionPool*> self_ = std::make_shared<ConnectionPool*>(this);
};

}  // namespace modgate::upstream
