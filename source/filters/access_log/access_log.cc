#include "source/filters/access_log/access_log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "source/common/common/time.h"

namespace modgate::filters::access_log {
namespace {

void appendString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned>(c));
        } else {
          // Bytes >= 0x80 pass as they are: request paths are ASCII after
          // the codec, and module paths are validated before they get here.
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void appendField(std::string& out, std::string_view name, std::string_view value) {
  out.append(",\"").append(name).append("\":");
  appendString(out, value);
}

void appendNumber(std::string& out, std::string_view name, int64_t value) {
  out.append(",\"").append(name).append("\":");
  absl::StrAppend(&out, value);
}

// Milliseconds with microsecond precision, as Envoy's %DURATION% is read.
void appendMs(std::string& out, std::string_view name, std::chrono::nanoseconds duration) {
  out.append(",\"").append(name).append("\":");
  absl::StrAppendFormat(&out, "%.3f", static_cast<double>(duration.count()) / 1'000'000.0);
}

std::string_view cacheResult(const http::StreamInfo& info) {
  if (info.coalesced) return "coalesced";
  if (info.cache_status == "HIT") return "hit";
  if (info.cache_status == "MISS") return "miss";
  if (info.cache_status == "STALE") return "stale";
  return "";
}

}  // namespace

void formatLine(const http::StreamInfo& info, int64_t wall_now_unix_ms, event::MonotonicTime now,
                std::string& out) {
  const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - info.start_time);
  const absl::Time start = absl::FromUnixMillis(wall_now_unix_ms - age.count());
  out.append("{\"time\":\"");
  out.append(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", start, absl::UTCTimeZone()));
  out.push_back('"');
  appendField(out, "request_id", info.request_id);
  appendField(out, "client", info.remote_address);
  // Who the client is: its principals (user:<name>, token:<name>, the
  // client certificate's SANs), as routes and module policy match them.
  const std::vector<std::string> principals =
      info.principals.empty() ? http::principalsOf(info.identity, info.tls.get()) : info.principals;
  if (!principals.empty()) appendField(out, "identity", absl::StrJoin(principals, ","));
  appendField(out, "listener", info.listener);
  appendField(out, "protocol", info.protocol == http::Protocol::kHttp2 ? "HTTP/2" : "HTTP/1.1");
  appendField(out, "method", info.request != nullptr ? info.request->method : "");
  appendField(out, "path", info.request != nullptr ? info.request->path : "");
  appendField(out, "module", info.module);
  appendField(out, "version", info.version);
  appendField(out, "kind", info.kind);
  appendNumber(out, "status", info.response_code);
  appendNumber(out, "bytes_sent", static_cast<int64_t>(info.bytes_sent));
  appendMs(out, "duration_ms", info.end_time - info.start_time);
  if (info.first_byte_time.has_value()) {
    appendMs(out, "ttfb_ms", *info.first_byte_time - info.start_time);
  }
  appendField(out, "cache", cacheResult(info));
  appendField(out, "route", info.route);
  const http::UpstreamInfo* upstream = info.upstream.get();
  appendField(out, "cluster", upstream != nullptr ? upstream->cluster : "");
  appendField(out, "upstream_host", upstream != nullptr ? upstream->host : "");
  appendNumber(out, "upstream_status", upstream != nullptr ? upstream->status : 0);
  appendNumber(out, "retries",
               upstream != nullptr && upstream->attempts > 0 ? upstream->attempts - 1 : 0);
  if (upstream != nullptr && upstream->headers_time.has_value()) {
    appendMs(out, "upstream_ttfb_ms", *upstream->headers_time - upstream->start_time);
  }
  appendField(out, "canary", info.canary_side);
  if (info.reset) out.append(",\"reset\":true");
  out.append("}\n");
}

bool isErrorOrMiss(const http::StreamInfo& info) {
  return info.reset || info.response_code >= 400 || info.response_code == 0 || info.coalesced ||
         info.cache_status != "HIT";
}

WorkerAccessLog::WorkerAccessLog(event::Dispatcher& dispatcher)
    : dispatcher_(dispatcher), flush_timer_(dispatcher.createTimer([this] {
        timer_armed_ = false;
        flush();
      })) {}

WorkerAccessLog::~WorkerAccessLog() { flush(); }

void WorkerAccessLog::setConfig(AccessLogConfigSharedPtr config) {
  flush();
  config_ = std::move(config);
  // Drop buffers (and so references) of files the new snapshot no longer
  // uses, so a removed log's writer can finish and close.
  buffers_.erase(std::remove_if(buffers_.begin(), buffers_.end(),
                                [this](const Buffer& buffer) {
                                  if (config_ == nullptr) return true;
                                  for (const auto& [name, log] : *config_) {
                                    if (log.file == buffer.file) return false;
                                  }
                                  return true;
                                }),
                 buffers_.end());
}

void WorkerAccessLog::log(const http::StreamInfo& info) {
  if (config_ == nullptr) return;
  auto it = config_->find(info.listener);
  if (it == config_->end() || it->second.file == nullptr) return;
  const ListenerLog& listener = it->second;
  if (listener.errors_and_misses_only && !isErrorOrMiss(info)) return;
  if (listener.sample_percent < 100 &&
      static_cast<double>(random_() % 1'000'000) >= listener.sample_percent * 10'000) {
    return;
  }
  Buffer& buffer = bufferFor(listener.file);
  formatLine(info, common::wallClockUnixMs(), dispatcher_.now(), buffer.bytes);
  ++buffer.lines;
  if (buffer.bytes.size() >= kFlushBytes) {
    submit(buffer);
  } else if (!timer_armed_) {
    timer_armed_ = true;
    flush_timer_->enableTimer(kFlushInterval);
  }
}

WorkerAccessLog::Buffer& WorkerAccessLog::bufferFor(
    const modgate::access_log::AccessLogFileSharedPtr& file) {
  for (Buffer& buffer : buffers_) {
    if (buffer.file == file) return buffer;
  }
  buffers_.push_back(Buffer{file, std::string(), 0});
  buffers_.back().bytes.reserve(kFlushBytes + 1024);
  return buffers_.back();
}

void WorkerAccessLog::submit(Buffer& buffer) {
  if (buffer.lines == 0) return;
  std::string bytes;
  bytes.reserve(kFlushBytes + 1024);
  bytes.swap(buffer.bytes);
  buffer.file->submit(std::move(bytes), buffer.lines);
  buffer.lines = 0;
}

void WorkerAccessLog::flush() {
  for (Buffer& buffer : buffers_) submit(buffer);
}

}  // namespace modgate::filters::access_log
