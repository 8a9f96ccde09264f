#include "test/common/http/loopback_server.h"

#include <netinet/in.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <vector>

namespace modgate::http::testing {

namespace {
// Lets a connection go through deferredDelete().
struct DeferredConnection : event::DeferredDeletable {
  std::unique_ptr<LoopbackConnection> connection;
};
}  // namespace

LoopbackServer::LoopbackServer(std::string thread_name, ConnectionFactory factory)
    : factory_(std::move(factory)), dispatcher_(std::move(thread_name)) {
  auto address = network::parseAddress("127.0.0.1:0");
  if (!address.ok()) abort();
  auto listener = network::Listener::create(
      dispatcher_, *address,
      [this](int fd, std::string remote_address) { onAccept(fd, std::move(remote_address)); });
  if (!listener.ok()) abort();
  listener_ = std::move(*listener);
  const auto* in = reinterpret_cast<const sockaddr_in*>(listener_->localAddress().sockAddr());
  port_ = ntohs(in->sin_port);
  listener_->enable();
  thread_ = std::thread([this] { dispatcher_.run(); });
}

LoopbackServer::~LoopbackServer() {
  runOnDispatcher([this] {
    forEachConnection([](LoopbackConnection& connection) { connection.closeNow(); });
    listener_.reset();
  });
  dispatcher_.exit();
  thread_.join();
  connections_.clear();
}

void LoopbackServer::onAccept(int fd, std::string remote_address) {
  accepted_++;
  std::unique_ptr<LoopbackConnection> connection = factory_(fd, std::move(remote_address));
  LoopbackConnection* raw = connection.get();
  connections_[raw] = std::move(connection);
}

void LoopbackServer::onConnectionClosed(LoopbackConnection& connection) {
  auto it = connections_.find(&connection);
  if (it == connections_.end()) return;
  auto deferred = std::make_unique<DeferredConnection>();
  deferred->connection = std::move(it->second);
  connections_.erase(it);
  dispatcher_.deferredDelete(std::move(deferred));
}

void LoopbackServer::forEachConnection(const std::function<void(LoopbackConnection&)>& cb) {
  // A copy: closing a connection removes it from connections_.
  std::vector<LoopbackConnection*> open;
  for (auto& [raw, owned] : connections_) open.push_back(raw);
  for (LoopbackConnection* connection : open) cb(*connection);
}

void LoopbackServer::runOnDispatcher(std::function<void()> cb) {
  // Shared so a timed-out wait cannot leave the callback a dangling promise.
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  dispatcher_.post([cb = std::move(cb), done] {
    cb();
    done->set_value();
  });
  finished.wait_for(std::chrono::seconds(10));
}

void LoopbackServer::shutdownNoticeAll() {
  runOnDispatcher([this] {
    forEachConnection([](LoopbackConnection& connection) { connection.shutdownNotice(); });
  });
}

}  // namespace modgate::http::testing
