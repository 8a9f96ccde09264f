#include "source/upstream/connection_pool.h"

#include "source/upstream/deferred_delete.h"

namespace modgate::upstream {

ConnectionPool::ConnectionPool(event::Dispatcher& dispatcher, uint32_t max_idle,
                               std::chrono::milliseconds idle_timeout)
    : dispatcher_(dispatcher), max_idle_(max_idle), idle_timeout_(idle_timeout) {}

ConnectionPool::~ConnectionPool() {
  for (Idle& idle : idle_) {
    idle.connection->setCloseCallback(nullptr);
    idle.connection->close();
  }
  // Not inside any of their callbacks: plain destruction is fine.
  idle_.clear();
}

ClientConnectionPtr ConnectionPool::acquire() {
  while (!idle_.empty()) {
    Idle idle = std::move(idle_.front());
    idle_.pop_front();
    idle.connection->setCloseCallback(nullptr);
    retire(std::move(idle.timer));
    if (idle.connection->isOpen() && idle.connection->reusable()) return std::move(idle.connection);
    discard(std::move(idle.connection));
  }
  return nullptr;
}

void ConnectionPool::release(ClientConnectionPtr connection) {
  if (connection == nullptr) return;
  if (!connection->reusable() || max_idle_ == 0) {
    discard(std::move(connection));
    return;
  }
  ClientConnection* raw = connection.get();
  raw->setCloseCallback([this, raw] { remove(raw); });
  auto timer = dispatcher_.createTimer([this, raw] { raw->close(); });
  timer->enableTimer(idle_timeout_);
  idle_.push_front(Idle{std::move(connection), std::move(timer)});
  while (idle_.size() > max_idle_) {
    Idle oldest = std::move(idle_.back());
    idle_.pop_back();
    oldest.connection->setCloseCallback(nullptr);
    retire(std::move(oldest.timer));
    discard(std::move(oldest.connection));
  }
}

void ConnectionPool::remove(ClientConnection* connection) {
  for (auto it = idle_.begin(); it != idle_.end(); ++it) {
    if (it->connection.get() != connection) continue;
    Idle idle = std::move(*it);
    idle_.erase(it);
    idle.connection->setCloseCallback(nullptr);
    // Called from the connection's close callback (maybe from its timer).
    retire(std::move(idle.timer));
    deferDelete(dispatcher_, std::move(idle.connection));
    return;
  }
}

void ConnectionPool::retire(event::TimerPtr timer) {
  // Disarmed first: it must not fire for a connection that moved on.
  timer->disableTimer();
  deferDelete(dispatcher_, std::move(timer));
}

void ConnectionPool::discard(ClientConnectionPtr connection) {
  connection->setCloseCallback(nullptr);
  if (connection->isOpen()) connection->close();
  deferDelete(dispatcher_, std::move(connection));
}

}  // namespace modgate::upstream
