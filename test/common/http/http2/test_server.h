#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "source/common/event/dispatcher.h"
#include "source/common/http/codec.h"
#include "test/common/http/event_log.h"
#include "test/common/http/loopback_server.h"

namespace modgate::http::http2::testing {

// Size of the /big response body and the byte at each offset, so clients'
// downloads can be checked without keeping a copy around.
constexpr size_t kBigBodySize = 10 * 1024 * 1024;
constexpr size_t kBigChunkSize = 512 * 1024;
inline char bigBodyByte(size_t offset) {
  return static_cast<char>((offset * 7 + offset / 4093) & 0xff);
}

using http::testing::EventLog;

class TestConnection;

// An HTTP/2 server on 127.0.0.1:<ephemeral> running the real codec over
// real sockets on its own dispatcher thread. A connection that starts with
// the HTTP/2 preface gets the codec directly (prior knowledge); anything
// else is read as an HTTP/1.1 "Upgrade: h2c" request by a small hand-written
// driver that writes the 101 and switches with createUpgraded().
// Streams answer from a fixed table of paths (see test_server.cc).
class TestServer {
 public:
  explicit TestServer(const CodecSettings& settings = CodecSettings());

  uint16_t port() const { return loopback_.port(); }
  std::string url(std::string_view path) const;
  EventLog& events() { return events_; }
  const CodecSettings& settings() const { return settings_; }
  int acceptedConnections() const { return loopback_.acceptedConnections(); }
  // The most streams one connection had open at once (layer-above view).
  int maxConcurrentStreams() const { return max_concurrent_.load(); }
  // write() calls the codecs made on their network connections.
  int writes() const { return writes_.load(); }
  // Calls shutdownNotice() on every open connection's codec.
  void shutdownNoticeAll() { loopback_.shutdownNoticeAll(); }
  // Runs `cb` on the dispatcher thread and waits for it.
  void runOnDispatcher(std::function<void()> cb) { loopback_.runOnDispatcher(std::move(cb)); }

  // For TestConnection, on the dispatcher thread.
  event::Dispatcher& dispatcher() { return loopback_.dispatcher(); }
  void onConnectionClosed(TestConnection& connection);
  void noteConcurrency(int streams);

 private:
  friend class TestConnection;

  const CodecSettings settings_;
  EventLog events_;
  std::atomic<int> max_concurrent_{0};
  std::atomic<int> writes_{0};
  // Last: stops, closing the connections, before the members above go.
  http::testing::LoopbackServer loopback_;
};

}  // namespace modgate::http::http2::testing
