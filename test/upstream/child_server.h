#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace modgate::upstream::testing {

// A server a test runs as a child process on 127.0.0.1: started from argv,
// waited for until `ready()` holds (its port file is written, its port
// accepts), and ended with SIGTERM (SIGKILL if it lingers) when destroyed.
// The one way the upstream tests start their origins: test_origin.py,
// nginx, the Python gRPC echo server.
class ChildServer {
 public:
  // nullptr if the child exited, or was not ready within `deadline` (it is
  // killed then).
  static std::unique_ptr<ChildServer> start(
      const std::vector<std::string>& argv, const std::function<bool()>& ready,
      std::chrono::milliseconds deadline = std::chrono::seconds(30));
  ~ChildServer();

  pid_t pid() const { return pid_; }
  // SIGKILL now and reap it: the server dies without a goodbye.
  void crash();

 private:
  explicit ChildServer(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

// The whole file, or "" if it cannot be read.
std::string readFile(const std::string& path);
// The port number a child wrote to `path`; 0 until it did.
uint16_t readPortFile(const std::string& path);
// True when something accepts TCP connections on 127.0.0.1:`port`.
bool acceptingOnLoopback(uint16_t port);

}  // namespace modgate::upstream::testing
