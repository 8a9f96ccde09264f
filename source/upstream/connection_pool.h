#pragma once

#include <chrono>
#include <cstdint>
#include <list>

#include "source/common/event/dispatcher.h"
#include "source/upstream/client_connection.h"

namespace modgate::upstream {

// Idle keep-alive connections to one origin. A connection comes back only
// after a complete, cleanly framed response that did not ask to close; it
// leaves when taken, when it closes or receives unexpected bytes, or after
// `idle_timeout`. At most `max_idle` are kept (the least recently used go).
class ConnectionPool {
 public:
  ConnectionPool(event::Dispatcher& dispatcher, uint32_t max_idle,
                 std::chrono::milliseconds idle_timeout);
  ~ConnectionPool();

  // The most recently used open idle connection, or nullptr.
  ClientConnectionPtr acquire();
  // Takes back a connection after an exchange: kept if reusable() and there
  // is room, else closed.
  void release(ClientConnectionPtr connection);

  size_t idleCount() const { return idle_.size(); }

 private:
  struct Idle {
    ClientConnectionPtr connection;
    event::TimerPtr timer;
  };
  void remove(ClientConnection* connection);
  void discard(ClientConnectionPtr connection);
  void retire(event::TimerPtr timer);

  event::Dispatcher& dispatcher_;
  const uint32_t max_idle_;
  const std::chrono::milliseconds idle_timeout_;
  std::list<Idle> idle_;  // most recently used first
};

}  // namespace modgate::upstream
