#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include "source/common/event/dispatcher.h"
#include "source/common/http/codec.h"
#include "test/common/http/event_log.h"
#include "test/common/http/loopback_server.h"

namespace modgate::http::http1::testing {

using http::testing::EventLog;

class TestConnection;

// An HTTP/1.1 server on 127.0.0.1:<ephemeral> running the real codec over
// real sockets on its own dispatcher thread. Streams answer from a fixed
// table of paths (see test_server.cc) and record what they see in events().
class TestServer {
 public:
  explicit TestServer(const CodecSettings& settings = CodecSettings());

  uint16_t port() const { return loopback_.port(); }
  EventLog& events() { return events_; }
  const CodecSettings& settings() const { return settings_; }
  int acceptedConnections() const { return loopback_.acceptedConnections(); }
  // Calls shutdownNotice() on every open connection's codec and waits for it.
  void shutdownNoticeAll() { loopback_.shutdownNoticeAll(); }
  // Runs `cb` on the dispatcher thread and waits for it.
  void runOnDispatcher(std::function<void()> cb) { loopback_.runOnDispatcher(std::move(cb)); }

  // For TestConnection, on the dispatcher thread.
  event::Dispatcher& dispatcher() { return loopback_.dispatcher(); }
  void onConnectionClosed(TestConnection& connection);

 private:
  const CodecSettings settings_;
  EventLog events_;
  // Last: stops, closing the connections, before the members above go.
  http::testing::LoopbackServer loopback_;
};

}  // namespace modgate::http::http1::testing
