#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/http/codec.h"
#include "source/common/http/header_map.h"

namespace modgate::http {

// What is known about a stream, for filters and access logs.
struct StreamInfo {
  std::string remote_address;
  Protocol protocol = Protocol::kHttp11;
  event::MonotonicTime start_time;
  int response_code = 0;
  uint64_t bytes_sent = 0;
  std::string cache_status;  // HIT, MISS, STALE, or empty
  // Response bytes reach a plain TCP socket unread (HTTP/1.1 without TLS),
  // so file bodies can go out with sendfile().
  bool sendfile = false;
};

enum class FilterHeadersStatus {
  kContinue,       // pass the request to the next filter
  kStopIteration,  // this filter answers (now or later) or calls continueDecoding()
};

// What a filter can do to its stream. Valid until the filter's onDestroy().
class StreamFilterCallbacks {
 public:
  virtual ~StreamFilterCallbacks() = default;
  virtual event::Dispatcher& dispatcher() = 0;
  virtual StreamInfo& streamInfo() = 0;
  // Resumes the chain after kStopIteration (an async check finished).
  virtual void continueDecoding() = 0;
  // Answers with `status` and a one-line text/plain reason the go command
  // prints; ends the stream.
  virtual void sendLocalReply(int status, std::string_view reason) = 0;
  virtual void encodeHeaders(ResponseHeaders& headers, bool end_stream) = 0;
  virtual void encodeData(buffer::Buffer& data, bool end_stream) = 0;
  // Ends the response with trailers (HTTP/2; see ResponseEncoder).
  virtual void encodeTrailers(const HeaderMap& trailers) = 0;
  // Abandons the response mid-body (HTTP/2 RST_STREAM, HTTP/1.1 close):
  // the only honest signal once headers are out and the body cannot finish.
  virtual void resetStream() = 0;
  // True after the client went away; nothing more should be encoded.
  virtual bool streamReset() const = 0;
};

// A request filter. The GOPROXY logic is the last filter of the chain;
// auth, policy, canary and access logging slot in before it.
class StreamFilter {
 public:
  virtual ~StreamFilter() = default;
  virtual void setCallbacks(StreamFilterCallbacks& callbacks) = 0;
  virtual FilterHeadersStatus decodeHeaders(RequestHeaders& headers, bool end_stream) = 0;
  // The request body, delivered as each piece arrives (HTTP/2: per DATA
  // frame) to the filter holding the stream: the last one whose
  // decodeHeaders() returned kStopIteration. Streaming protocols (gRPC) read
  // here while their response is still going out. The default drops it:
  // GOPROXY requests have no body.
  virtual void decodeData(buffer::Buffer& data, bool end_stream) { data.drain(data.length()); }
  // The response producer should pause/resume (downstream flow control).
  virtual void onAboveWriteBufferHighWatermark() {}
  virtual void onBelowWriteBufferLowWatermark() {}
  // The stream ended (completed or reset): release resources, cancel work.
  virtual void onDestroy() {}
  // After the stream ended, for logging and stats.
  virtual void onStreamComplete(const StreamInfo& info) {}
};
using StreamFilterPtr = std::unique_ptr<StreamFilter>;

// Builds the filter chain of each new stream, on the worker's thread.
class FilterChainFactory {
 public:
  virtual ~FilterChainFactory() = default;
  virtual void createFilterChain(std::vector<StreamFilterPtr>& chain) = 0;
};

}  // namespace modgate::http
