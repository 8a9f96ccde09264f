#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "source/common/event/dispatcher_impl.h"
#include "source/common/http/codec.h"
#include "source/common/network/listener.h"

namespace modgate::http::http2::testing {

// Size of the /big response body and the byte at each offset, so clients'
// downloads can be checked without keeping a copy around.
constexpr size_t kBigBodySize = 10 * 1024 * 1024;
constexpr size_t kBigChunkSize = 512 * 1024;
inline char bigBodyByte(size_t offset) {
  return static_cast<char>((offset * 7 + offset / 4093) & 0xff);
}

// A thread-safe record of what happened on the server, for the test thread
// to wait on.
class EventLog {
 public:
  void record(std::string event);
  bool waitFor(std::string_view event,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits until an event starting with `prefix` was recorded; returns it.
  std::string waitForPrefix(std::string_view prefix,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));
  int count(std::string_view prefix);
  std::vector<std::string> snapshot();

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> events_;
};

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
  ~TestServer();

  uint16_t port() const { return port_; }
  std::string url(std::string_view path) const;
  EventLog& events() { return events_; }
  const CodecSettings& settings() const { return settings_; }
  int acceptedConnections() const { return accepted_.load(); }
  // The most streams one connection had open at once (layer-above view).
  int maxConcurrentStreams() const { return max_concurrent_.load(); }
  // write() calls the codecs made on their network connections.
  int writes() const { return writes_.load(); }
  // Calls shutdownNotice() on every open connection's codec.
  void shutdownNoticeAll();
  // Runs `cb` on the dispatcher thread and waits for it.
  void runOnDispatcher(std::function<void()> cb);

  // For TestConnection, on the dispatcher thread.
  event::Dispatcher& dispatcher() { return dispatcher_; }
  void onConnectionClosed(TestConnection& connection);
  void noteConcurrency(int streams);

 private:
  friend class TestConnection;
  void onAccept(int fd, std::string remote_address);

  const CodecSettings settings_;
  event::DispatcherImpl dispatcher_;
  std::unique_ptr<network::Listener> listener_;
  std::map<TestConnection*, std::unique_ptr<TestConnection>> connections_;
  EventLog events_;
  std::atomic<int> accepted_{0};
  std::atomic<int> max_concurrent_{0};
  std::atomic<int> writes_{0};
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace modgate::http::http2::testing
