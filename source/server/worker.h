#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/common/http/conn_manager/connection_manager.h"
#include "source/common/network/address.h"
#include "source/common/network/listener.h"
#include "source/common/stats/stats.h"

namespace modgate::server {

// Accepts connections on a dispatcher and owns their connection managers
// for their whole life. Used by every worker and by the admin listener.
class ConnectionHandler {
 public:
  // `connections` counts open downstream connections across every worker;
  // above `max_connections` (0 = no limit) a new one is closed at once.
  ConnectionHandler(event::Dispatcher& dispatcher, http::FilterChainFactory& filters,
                    const http::ConnectionManagerSettings& settings, stats::Stats* stats,
                    std::atomic<uint64_t>* connections = nullptr, uint64_t max_connections = 0);
  ~ConnectionHandler();

  // Binds (SO_REUSEPORT) and starts accepting; call on the dispatcher's thread
  // or before it runs.
  absl::Status addListener(const network::Address& address);
  const network::Address& listenerAddress(size_t index) const;
  // Stops accepting and drains every connection.
  void drain();
  void stopListening();
  size_t connectionCount() const { return connections_.size(); }

 private:
  void onAccept(int fd, std::string remote_address);

  event::Dispatcher& dispatcher_;
  http::FilterChainFactory& filters_;
  const http::ConnectionManagerSettings& settings_;
  stats::Stats* stats_;
  std::atomic<uint64_t>* connections_total_;
  const uint64_t max_connections_;
  std::vector<std::unique_ptr<network::Listener>> listeners_;
  // Kept after the listeners close (drain).
  std::vector<network::Address> bound_addresses_;
  std::unordered_map<http::ConnectionManager*, std::unique_ptr<http::ConnectionManager>>
      connections_;
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
