#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace modgate::http::testing {

// A thread-safe record of what happened on a test server, for the test
// thread to wait on.
class EventLog {
 public:
  void record(std::string event);
  // Waits until an event equal to `event` was recorded.
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

}  // namespace modgate::http::testing
