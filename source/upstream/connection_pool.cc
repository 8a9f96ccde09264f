#include "source/upstream/connection_pool.h"

#include <string>

#include "source/upstream/deferred_delete.h"
#include "source/upstream/http2_client_stream.h"

namespace modgate::upstream {

ConnectionPool::ConnectionPool(event::Dispatcher& dispatcher, uint32_t max_idle,
                               std::chrono::milliseconds idle_timeout, bool http2_possible)
    : dispatcher_(dispatcher),
      max_idle_(max_idle),
      idle_timeout_(idle_timeout),
      http2_possible_(http2_possible) {}

ConnectionPool::~ConnectionPool() {
  for (Idle& idle : idle_) {
    idle.connection->setCloseCallback(nullptr);
    idle.connection->close();
  }
  // Not inside any of their callbacks: plain destruction is fine.
  idle_.clear();
  for (auto& connection : http2_) {
    connection->setCloseCallback(nullptr);
    connection->close();
  }
  http2_.clear();
}

ClientConnectionPtr ConnectionPool::acquire(bool idle_http1) {
  // The oldest h2 connection with room first, so that streams gather on as
  // few connections as possible and the others can go idle.
  for (auto& connection : http2_) {
    if (connection->acceptsStreams()) return connection->newStream();
  }
  while (idle_http1 && !idle_.empty()) {
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
  if (!connection_waiters_.empty() && connection->reusable() && connection->isOpen()) {
    // Straight to the request that has waited longest under the limits.
    PoolWaiter* waiter = connection_waiters_.front();
    connection_waiters_.pop_front();
    waiter->onPoolConnection(std::move(connection));
    return;
  }
  if (!connection->reusable() || max_idle_ == 0) {
    discard(std::move(connection));
    // An HTTP/2 stream ended: its connection has room for a waiter. (An
    // HTTP/1.1 connection just closed, and its slot wakes one itself.)
    if (!http2_.empty()) wakeConnectionWaiter();
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

ClientConnectionPtr ConnectionPool::addHttp2(std::unique_ptr<Http2ClientConnection> connection) {
  Http2ClientConnection* raw = connection.get();
  if (!raw->isOpen()) {
    deferDelete(dispatcher_, std::move(connection));
    return nullptr;
  }
  raw->setCloseCallback([this, raw] { removeHttp2(raw); });
  http2_.push_back(std::move(connection));
  return raw->newStream();
}

void ConnectionPool::connectStarted() { ++pending_connects_; }

void ConnectionPool::connectSucceeded(bool http2) {
  if (pending_connects_ > 0) --pending_connects_;
  // One answer is taken as the origin's: later requests open their own
  // HTTP/1.1 connections at once instead of waiting.
  if (!http2) http1_only_ = true;
  wakeWaiters();
}

void ConnectionPool::connectFailed(FailureReason reason, std::string_view detail) {
  if (pending_connects_ > 0) --pending_connects_;
  std::list<PoolWaiter*> waiters = std::move(waiters_);
  waiters_.clear();
  for (PoolWaiter* waiter : waiters) waiter->onPoolFailure(reason, detail);
}

void ConnectionPool::connectAbandoned() {
  if (pending_connects_ > 0) --pending_connects_;
  // The waiters try again (and may open a connection themselves).
  wakeWaiters();
}

bool ConnectionPool::canWait() const {
  if (!http2_possible_ || http1_only_) return false;
  return waiters_.size() < static_cast<size_t>(pending_connects_) *
                               Http2ClientConnection::kAssumedMaxConcurrentStreams;
}

void ConnectionPool::wait(PoolWaiter& waiter) { waiters_.push_back(&waiter); }

void ConnectionPool::cancelWait(PoolWaiter& waiter) {
  waiters_.remove(&waiter);
  connection_waiters_.remove(&waiter);
}

ResourceHandlePtr ConnectionPool::connectionSlot(const ConnectionLimits& limits) {
  auto on_release = [token = std::weak_ptr<ConnectionPool*>(self_)] {
    if (auto pool = token.lock()) {
      --(*pool)->limited_connections_;
      (*pool)->wakeConnectionWaiter();
    }
  };
  ResourceHandlePtr slot =
      tryAcquireBoth(limits.cluster_connections, limits.host_connections, on_release);
  if (slot == nullptr && limited_connections_ == 0) {
    slot = forceAcquireBoth(limits.cluster_connections, limits.host_connections, on_release);
  }
  if (slot != nullptr) ++limited_connections_;
  return slot;
}

void ConnectionPool::waitForConnection(PoolWaiter& waiter, bool front) {
  if (front) {
    connection_waiters_.push_front(&waiter);
  } else {
    connection_waiters_.push_back(&waiter);
  }
}

void ConnectionPool::wakeConnectionWaiter() {
  if (connection_waiters_.empty()) return;
  PoolWaiter* waiter = connection_waiters_.front();
  connection_waiters_.pop_front();
  waiter->onPoolReady();
}

void ConnectionPool::wakeWaiters() {
  std::list<PoolWaiter*> waiters = std::move(waiters_);
  waiters_.clear();
  for (PoolWaiter* waiter : waiters) waiter->onPoolReady();
}

size_t ConnectionPool::bufferedResponseBytes() const {
  size_t total = 0;
  for (const auto& connection : http2_) total += connection->bufferedBodyBytes();
  return total;
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

void ConnectionPool::removeHttp2(Http2ClientConnection* connection) {
  for (auto it = http2_.begin(); it != http2_.end(); ++it) {
    if (it->get() != connection) continue;
    std::unique_ptr<Http2ClientConnection> owned = std::move(*it);
    http2_.erase(it);
    // Called from inside the connection.
    deferDelete(dispatcher_, std::move(owned));
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
