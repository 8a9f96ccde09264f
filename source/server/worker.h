#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "source/common/common/client_counters.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/common/http/conn_manager/connection_manager.h"
#include "source/common/network/address.h"
#include "source/common/network/listener.h"
#include "source/common/stats/stats.h"
#include "source/common/tls/server_context.h"

namespace modgate::server {

// Accepts connections on a dispatcher and owns their connection managers
// for their whole life. Used by every worker and by the admin listener.
// Listeners are named (the config's listener names) so that a reload can
// remove one and drain just the connections it accepted.
class ConnectionHandler {
 public:
  // How long connections of a removed listener may finish their requests.
  static constexpr std::chrono::milliseconds kRemovedListenerDrainTimeout{600 * 1000};

  // `connections` counts open downstream connections across every worker;
  // above `max_connections` (0 = no limit) a new one is closed at once.
  ConnectionHandler(event::Dispatcher& dispatcher, http::FilterChainFactory& filters,
                    const http::ConnectionManagerSettings& settings, stats::Stats* stats,
                    std::atomic<uint64_t>* connections = nullptr, uint64_t max_connections = 0);
  ~ConnectionHandler();

  // limits.max_connections_per_client: connections by client address,
  // counted in `counters` across workers. Call before accepting.
  void setPerClientConnectionLimit(common::ClientCounters* counters, uint32_t limit) {
    client_counters_ = counters;
    per_client_limit_ = limit;
  }

  // Binds (SO_REUSEPORT) and starts accepting; call on the dispatcher's thread
  // or before it runs.
  absl::Status addListener(const network::Address& address, std::string name = "");
  // Starts accepting on a socket bound elsewhere (see network::ListenSocket);
  // same thread rule. With a `tls` slot, each accepted connection speaks
  // TLS with the context the slot holds at accept time (none: plain).
  absl::Status addListener(network::ListenSocketPtr socket, std::string name,
                           tls::ServerContextSlotSharedPtr tls = nullptr);
  // Closes the named listener's socket and drains the connections it
  // accepted (closed once idle, forced after kRemovedListenerDrainTimeout);
  // the others are untouched. With two of that name (a reload moving one to
  // a new address adds the new one first), the older goes. False if there
  // is no such listener.
  bool removeListener(std::string_view name);
  // The bound address of the index-th listener (in the order added, without
  // removed ones; still answered after drain()), or of a named one.
  const network::Address& listenerAddress(size_t index) const;
  const network::Address* listenerAddress(std::string_view name) const;
  // Stops accepting and drains every connection.
  void drain();
  void stopListening();
  size_t connectionCount() const { return connections_.size(); }
  // Connections accepted by the named listener and still open.
  size_t connectionCount(std::string_view listener) const;

 private:
  struct ActiveListener {
    std::string name;
    uint64_t id;
    network::Address address;
    // Null once drain() closed the socket.
    std::unique_ptr<network::Listener> listener;
    tls::ServerContextSlotSharedPtr tls;
  };
  struct ActiveConnection {
    std::unique_ptr<http::ConnectionManager> manager;
    uint64_t listener_id;
    // The ClientCounters slot holding this connection, or -1.
    long client_slot = -1;
  };
  void onAccept(uint64_t listener_id, const tls::ServerContextSlot* tls, int fd,
                std::string remote_address);

  event::Dispatcher& dispatcher_;
  http::FilterChainFactory& filters_;
  const http::ConnectionManagerSettings& settings_;
  stats::Stats* stats_;
  std::atomic<uint64_t>* connections_total_;
  const uint64_t max_connections_;
  common::ClientCounters* client_counters_ = nullptr;
  uint32_t per_client_limit_ = 0;
  uint64_t next_listener_id_ = 1;
  std::vector<ActiveListener> listeners_;
  std::unordered_map<http::ConnectionManager*, ActiveConnection> connections_;
  bool draining_ = false;
};

// A thread running one dispatcher. Everything a worker owns (connections,
// upstream pools, filter state) lives on that thread.
class Worker {
 public:
  explicit Worker(std::string name);
  ~Worker();

  event::Dispatcher& dispatcher() { return dispatcher_; }
  void start();
  // Asks the loop to stop and joins the thread.
  void stop();

 private:
  event::DispatcherImpl dispatcher_;
  std::thread thread_;
};

}  // namespace modgate::server
