#include "source/server/worker.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>

#include "source/common/common/logger.h"
#include "source/common/network/socket_connection.h"
#include "source/common/tls/tls_connection.h"

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

absl::Status ConnectionHandler::addListener(const network::Address& address, std::string name) {
  auto socket = network::ListenSocket::bind(address);
  if (!socket.ok()) return socket.status();
  return addListener(std::move(*socket), std::move(name));
}

absl::Status ConnectionHandler::addListener(network::ListenSocketPtr socket, std::string name,
                                            tls::ServerContextSlotSharedPtr tls) {
  const uint64_t id = next_listener_id_++;
  // The slot outlives the listener (both held by listeners_ entry), and a
  // removed listener's socket closes before its entry goes.
  auto listener = network::Listener::create(
      dispatcher_, std::move(socket), [this, id, slot = tls.get()](int fd, std::string remote) {
        onAccept(id, slot, fd, std::move(remote));
      });
  if (!listener.ok()) return listener.status();
  if (stats_ != nullptr) {
    (*listener)->setAcceptErrorCallback(
        [stats = stats_](int) { stats->downstream_cx_accept_error->Increment(); });
  }
  network::Address address = (*listener)->localAddress();
  if (!draining_) (*listener)->enable();
  listeners_.push_back(
      ActiveListener{std::move(name), id, address, std::move(*listener), std::move(tls)});
  return absl::OkStatus();
}

bool ConnectionHandler::removeListener(std::string_view name) {
  auto it = std::find_if(listeners_.begin(), listeners_.end(),
                         [name](const ActiveListener& l) { return l.name == name; });
  if (it == listeners_.end()) return false;
  const uint64_t id = it->id;
  listeners_.erase(it);
  std::vector<http::ConnectionManager*> accepted;
  for (auto& [raw, connection] : connections_) {
    if (connection.listener_id == id) accepted.push_back(raw);
  }
  // drain() may close a connection at once, which erases it from the map.
  // The process is not exiting: requests in flight get as long as Envoy
  // gives a removed listener (--drain-time-s), not the shutdown deadline.
  for (auto* manager : accepted) {
    if (connections_.count(manager) != 0) manager->drain(kRemovedListenerDrainTimeout);
  }
  return true;
}

const network::Address& ConnectionHandler::listenerAddress(size_t index) const {
  return listeners_.at(index).address;
}

const network::Address* ConnectionHandler::listenerAddress(std::string_view name) const {
  for (const auto& listener : listeners_) {
    if (listener.name == name) return &listener.address;
  }
  return nullptr;
}

size_t ConnectionHandler::connectionCount(std::string_view listener) const {
  auto it = std::find_if(listeners_.begin(), listeners_.end(),
                         [listener](const ActiveListener& l) { return l.name == listener; });
  if (it == listeners_.end()) return 0;
  return std::count_if(connections_.begin(), connections_.end(),
                       [id = it->id](const auto& entry) { return entry.second.listener_id == id; });
}

void ConnectionHandler::onAccept(uint64_t listener_id, const tls::ServerContextSlot* tls, int fd,
                                 std::string remote_address) {
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
  long client_slot = -1;
  if (client_counters_ != nullptr && per_client_limit_ > 0) {
    const size_t slot = common::ClientCounters::slotOf(common::addressWithoutPort(remote_address));
    if (!client_counters_->tryAcquire(slot, per_client_limit_)) {
      ::close(fd);
      if (connections_total_ != nullptr) connections_total_->fetch_sub(1);
      if (stats_ != nullptr) stats_->downstream_cx_overflow->Increment();
      return;
    }
    client_slot = static_cast<long>(slot);
  }
  network::ConnectionPtr connection =
      std::make_unique<network::SocketConnection>(dispatcher_, fd, std::move(remote_address));
  if (tls::ServerContextSharedPtr context = tls != nullptr ? tls->get() : nullptr) {
    auto ssl = context->newSsl();
    if (!ssl.ok()) {  // out of memory: refuse this one, keep accepting
      LOG_ERROR("TLS session: ", std::string(ssl.status().message()));
      if (connections_total_ != nullptr) connections_total_->fetch_sub(1);
      if (client_slot >= 0) client_counters_->release(static_cast<size_t>(client_slot));
      return;  // the SocketConnection closes the socket
    }
    connection = std::make_unique<tls::TlsConnection>(std::move(*ssl), std::move(connection),
                                                      /*transport_connected=*/true, context);
  }
  auto manager = std::make_unique<http::ConnectionManager>(
      std::move(connection), filters_, settings_, [this](http::ConnectionManager& closed) {
        auto it = connections_.find(&closed);
        if (it == connections_.end()) return;
        if (it->second.client_slot >= 0) {
          client_counters_->release(static_cast<size_t>(it->second.client_slot));
        }
        // The manager may be on the stack: free it after this iteration.
        dispatcher_.deferredDelete(std::move(it->second.manager));
        connections_.erase(it);
        if (connections_total_ != nullptr) connections_total_->fetch_sub(1);
        if (stats_ != nullptr) stats_->downstream_cx_active->Decrement();
      });
  for (const ActiveListener& listener : listeners_) {
    if (listener.id == listener_id) manager->setListenerName(listener.name);
  }
  if (stats_ != nullptr) {
    stats_->downstream_cx_total->Increment();
    stats_->downstream_cx_active->Increment();
  }
  http::ConnectionManager* raw = manager.get();
  connections_.emplace(raw, ActiveConnection{std::move(manager), listener_id, client_slot});
}

void ConnectionHandler::stopListening() {
  for (auto& listener : listeners_) {
    if (listener.listener != nullptr) listener.listener->disable();
  }
}

void ConnectionHandler::drain() {
  draining_ = true;
  // Close the sockets, not just stop accepting: a client connecting now is
  // refused at once (and retries elsewhere) instead of waiting in a backlog
  // nobody reads. The addresses stay for listenerAddress().
  for (auto& listener : listeners_) listener.listener.reset();
  std::vector<http::ConnectionManager*> all;
  for (auto& [raw, connection] : connections_) all.push_back(raw);
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
