#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace modgate::upstream::testing {

// A tiny HTTP/1.1 server on 127.0.0.1 for probes, in-process so that a test
// can flip a path's answer and count requests without a control channel.
// Every path answers 200 "ok" (keep-alive) until told otherwise. One thread
// per connection; all methods are thread-safe.
class HealthTestServer {
 public:
  HealthTestServer();
  ~HealthTestServer();

  uint16_t port() const { return port_; }

  void setStatus(const std::string& path, int status);
  // Wait this long before answering (a stuck origin).
  void setDelay(const std::string& path, std::chrono::milliseconds delay);

  int requests(const std::string& path) const;
  std::vector<std::chrono::steady_clock::time_point> requestTimes(const std::string& path) const;
  // Host header of the latest request for `path`.
  std::string lastHost(const std::string& path) const;

 private:
  struct PathState {
    int status = 200;
    std::chrono::milliseconds delay{0};
    std::vector<std::chrono::steady_clock::time_point> times;
    std::string last_host;
  };

  void acceptLoop();
  void serve(int fd);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex lock_;
  std::map<std::string, PathState> paths_;
  std::vector<int> connection_fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

// A port on 127.0.0.1 with nothing listening (bound, then closed).
uint16_t refusedPort();

}  // namespace modgate::upstream::testing
