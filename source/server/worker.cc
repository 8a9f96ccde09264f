#include "source/server/worker.h"

#include <pthread.h>
#include <unistd.h>

#include "source/common/network/socket_connection.h"

namespace modgate::server {

ConnectionHandler::ConnectionHandler(event::Dispatcher& dispatcher,
                                     http::FilterChainFactory& filters,
                                     const http::ConnectionManagerSettings& settings,
                                     stats::Stats* stats, std::atomic<uint64_t>* connections,
                                     uint64_t max_connections)
    : dispatcher_(dispatcher),
      filters_(filters),
      settings_(settings),
      stats_(stats),
      connections_total_(connections),
      max_connections_(max_connections) {}

ConnectionHandler::~ConnectionHandler() {
  listeners_.clear();
  connections_.clear();
}

absl::Status ConnectionHandler::addListener(const network::Address& address) {
  auto listener = network::Listener::create(
      dispatcher_, address,
      [this](int fd, std::string remote) { onAccept(fd, std::move(remote)); });
  if (!listener.ok()) return listener.status();
  (*listener)->enable();
  bound_addresses_.push_back((*listener)->localAddress());
  listeners_.push_back(std::move(*listener));
  return absl::OkStatus();
}

const network::Address& ConnectionHandler::listenerAddress(size_t index) const {
  return bound_addresses_.at(index);
}

void ConnectionHandler::onAccept(int fd, std::string remote_address) {
  if (draining_) {
    ::close(fd);
    return;
  }
  if (connections_total_ != nullptr) {
    // Counted across workers without a lock; a burst may overshoot by at
    // most one connection per worker.
    if (max_connections_ != 0 && connections_total_->load() >= max_connections_) {
      ::close(fd);
      if (stats_ != nullptr) stats_->downstream_cx_overflow->Increment();
      return;
    }
    connections_total_->fetch_add(1);
  }
  auto connection =
      std::make_unique<network::SocketConnection>(dispatcher_, fd, std::move(remote_address));
  auto manager = std::make_unique<http::ConnectionManager>(
      std::move(connection), filters_, settings_, [this](http::ConnectionManager& closed) {
        auto it = connections_.find(&closed);
        if (it == connections_.end()) return;
        // The manager may be on the stack: free it after this iteration.
        dispatcher_.deferredDelete(std::move(it->second));
        connections_.erase(it);
        if (connections_total_ != nullptr) connections_total_->fetch_sub(1);
        if (stats_ != nullptr) stats_->downstream_cx_active->Decrement();
      });
  if (stats_ != nullptr) {
    stats_->downstream_cx_total->Increment();
    stats_->downstream_cx_active->Increment();
  }
  http::ConnectionManager* raw = manager.get();
  connections_.emplace(raw, std::move(manager));
}

void ConnectionHandler::stopListening() {
  for (auto& listener : listeners_) listener->disable();
}

void ConnectionHandler::drain() {
  draining_ = true;
  // Close the sockets, not just stop accepting: a client connecting now is
  // refused at once (and retries elsewhere) instead of waiting in a backlog
  // nobody reads.
  listeners_.clear();
  std::vector<http::ConnectionManager*> all;
  for (auto& [raw, owned] : connections_) all.push_back(raw);
  for (auto* manager : all) {
    if (connections_.count(manager) != 0) manager->drain();
  }
}

Worker::Worker(std::string name) : dispatcher_(std::move(name)) {}

Worker::~Worker() { stop(); }

void Worker::start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), dispatcher_.name().substr(0, 15).c_str());
    dispatcher_.run();
  });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  dispatcher_.exit();
  thread_.join();
}

}  // namespace modgate::server
