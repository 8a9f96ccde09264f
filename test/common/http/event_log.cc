#include "test/common/http/event_log.h"

namespace modgate::http::testing {

void EventLog::record(std::string event) {
  std::lock_guard<std::mutex> guard(mutex_);
  events_.push_back(std::move(event));
  changed_.notify_all();
}

bool EventLog::waitFor(std::string_view event, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    for (const std::string& e : events_) {
      if (e == event) return true;
    }
    return false;
  });
}

std::string EventLog::waitForPrefix(std::string_view prefix, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  std::string found;
  changed_.wait_for(lock, timeout, [&] {
    for (const std::string& e : events_) {
      if (std::string_view(e).substr(0, prefix.size()) == prefix) {
        found = e;
        return true;
      }
    }
    return false;
  });
  return found;
}

int EventLog::count(std::string_view prefix) {
  std::lock_guard<std::mutex> guard(mutex_);
  int n = 0;
  for (const std::string& e : events_) {
    if (std::string_view(e).substr(0, prefix.size()) == prefix) ++n;
  }
  return n;
}

std::vector<std::string> EventLog::snapshot() {
  std::lock_guard<std::mutex> guard(mutex_);
  return events_;
}

}  // namespace modgate::http::testing
