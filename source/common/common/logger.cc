#include "source/common/common/logger.h"

#include <pthread.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <string>

namespace modgate::log {
namespace {
std::atomic<Level> current_level{Level::kInfo};
constexpr const char* kNames[] = {"trace", "debug", "info", "warn", "error", "off"};
}  // namespace

void setLevel(Level level) { current_level = level; }

Level level() { return current_level.load(std::memory_order_relaxed); }

bool parseLevel(std::string_view text, Level& out) {
  for (int i = 0; i < 6; ++i) {
    if (text == kNames[i]) {
      out = static_cast<Level>(i);
      return true;
    }
  }
  if (text == "warning") {
    out = Level::kWarn;
    return true;
  }
  return false;
}

void write(Level level, std::string_view message) {
  timeval tv;
  gettimeofday(&tv, nullptr);
  tm utc;
  gmtime_r(&tv.tv_sec, &utc);
  char stamp[32];
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &utc);
  char thread[16] = {0};
  pthread_getname_np(pthread_self(), thread, sizeof(thread));
  std::string line =
      absl::StrCat(stamp, ".", absl::Dec(tv.tv_usec / 1000, absl::kZeroPad3), "Z ",
                   kNames[static_cast<int>(level)], " [", thread, "] ", std::string(message), "\n");
  // One write() per line so lines from threads never interleave.
  [[maybe_unused]] ssize_t rc = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace modgate::log
