#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "source/common/access_log/access_log_file.h"
#include "source/common/event/dispatcher.h"
#include "source/common/http/filter.h"

namespace modgate::filters::access_log {

// What one listener logs (api/modgate/config/v1/listener.proto AccessLog).
struct ListenerLog {
  modgate::access_log::AccessLogFileSharedPtr file;
  double sample_percent = 100;
  bool errors_and_misses_only = false;
};

// Every listener's log by listener name: an immutable snapshot, rebuilt on
// reload and posted to each worker (an absent listener logs nothing).
using AccessLogConfig = std::map<std::string, ListenerLog, std::less<>>;
using AccessLogConfigSharedPtr = std::shared_ptr<const AccessLogConfig>;

// Appends one access log line (a JSON object and '\n') for a finished
// stream. `wall_now_unix_ms` and `now` are read together, to turn the
// stream's monotonic times into a wall-clock start time. Unlike the admin
// bodies (protos through one printer), this is written field by field
// into the worker's buffer: it runs for every request, and building a
// message and printing it through reflection would cost more than the
// request itself on a warm hit. README.md's "Access log" lists the fields;
// access_log_test parses the lines as JSON.
void formatLine(const http::StreamInfo& info, int64_t wall_now_unix_ms, event::MonotonicTime now,
                std::string& out);

// Whether a finished stream is logged under errors_and_misses_only: not a
// plain cache hit, or an error.
bool isErrorOrMiss(const http::StreamInfo& info);

// A worker's side of the access logs: lines are formatted on the worker
// into a buffer per file and handed to the file's writer thread in batches,
// when a buffer passes kFlushBytes or kFlushInterval after its first line.
// Worker thread only.
class WorkerAccessLog {
 public:
  static constexpr size_t kFlushBytes = 32 * 1024;
  static constexpr std::chrono::milliseconds kFlushInterval{100};

  explicit WorkerAccessLog(event::Dispatcher& dispatcher);
  ~WorkerAccessLog();

  // A new snapshot: buffers of files it no longer names are flushed first.
  void setConfig(AccessLogConfigSharedPtr config);
  bool enabled() const { return config_ != nullptr && !config_->empty(); }
  // Logs `info` if its listener has a log and the stream passes its
  // filters; called once per stream, when it ends.
  void log(const http::StreamInfo& info);
  // Hands every buffer to its writer now.
  void flush();

 private:
  struct Buffer {
    modgate::access_log::AccessLogFileSharedPtr file;
    std::string bytes;
    uint64_t lines = 0;
  };
  Buffer& bufferFor(const modgate::access_log::AccessLogFileSharedPtr& file);
  void submit(Buffer& buffer);

  event::Dispatcher& dispatcher_;
  AccessLogConfigSharedPtr config_;
  // One per file in use: a handful, searched linearly.
  std::vector<Buffer> buffers_;
  event::TimerPtr flush_timer_;
  bool timer_armed_ = false;
  std::mt19937_64 random_{std::random_device{}()};
};

// The access log's place in the filter chain: passes every request on and
// logs it from onStreamComplete(), after the response is done.
class AccessLogFilter : public http::StreamFilter {
 public:
  explicit AccessLogFilter(WorkerAccessLog& log) : log_(log) {}
  void setCallbacks(http::StreamFilterCallbacks&) override {}
  http::FilterHeadersStatus decodeHeaders(http::RequestHeaders&, bool) override {
    return http::FilterHeadersStatus::kContinue;
  }
  void onStreamComplete(const http::StreamInfo& info) override { log_.log(info); }

 private:
  WorkerAccessLog& log_;
};

}  // namespace modgate::filters::access_log
