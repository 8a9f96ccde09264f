#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/http/codec.h"
#include "source/common/http/header_map.h"
#include "source/common/http/identity.h"
#include "source/common/network/connection.h"

namespace modgate::http {

// What the upstream side of one exchange did, written by the fetch that
// answers it (on the stream's own worker) and read when the stream ends. A
// waiter that joined another stream's fetch has none: its answer came from
// that fetch, logged once, by its leader.
struct UpstreamInfo {
  std::string cluster;
  std::string host;       // the last attempt's host
  int status = 0;         // the last attempt's HTTP status, 0 if none answered
  uint32_t attempts = 0;  // so retries (and fallbacks) = attempts - 1
  event::MonotonicTime start_time;
  // When the answering attempt's response headers arrived.
  std::optional<event::MonotonicTime> headers_time;
};

// What is known about a stream, for filters and access logs (Envoy's
// StreamInfo, smaller). The connection manager fills the protocol facts;
// the GOPROXY filter the module facts; an auth filter `identity`. The
// string_views point into objects that outlive the stream's filters
// (the request, the route table snapshot the filter holds, static names):
// read them no later than onStreamComplete().
struct StreamInfo {
  std::string remote_address;
  // The config name of the listener that accepted the connection.
  std::string listener;
  Protocol protocol = Protocol::kHttp11;
  event::MonotonicTime start_time;
  int response_code = 0;
  uint64_t bytes_sent = 0;
  std::string cache_status;  // HIT, MISS, STALE, or empty
  // This stream waited on a fetch another stream started (single flight).
  bool coalesced = false;
  // The client's x-request-id when it sent a usable one, else generated;
  // sent back on the response.
  std::string request_id;
  const RequestHeaders* request = nullptr;
  // When the response headers went to the codec (time to first byte).
  std::optional<event::MonotonicTime> first_byte_time;
  event::MonotonicTime end_time;
  // The stream ended by a reset, not a complete response.
  bool reset = false;
  std::string_view module;
  std::string_view version;
  std::string_view kind;  // "list", "info", "mod", "zip", "latest", "sumdb"
  std::string_view route;
  std::string_view canary_side;  // "stable", "canary", or empty
  std::shared_ptr<UpstreamInfo> upstream;
  // Response bytes reach a plain TCP socket unread (HTTP/1.1 without TLS),
  // so file bodies can go out with sendfile().
  bool sendfile = false;
  // The downstream TLS session (SNI, ALPN, the verified client certificate's
  // subject and SANs); null on plain HTTP.
  std::shared_ptr<const network::TlsInfo> tls;
  // Set by the auth filter (a Basic user or a token's name); kNone for
  // anonymous requests. For the access log and for filters after auth.
  Identity identity;
  // principalsOf(identity, tls), once the auth filter ran; empty otherwise
  // or when anonymous.
  std::vector<std::string> principals;
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
  // The same with extra response headers (WWW-Authenticate, Retry-After).
  virtual void sendLocalReply(int status, std::string_view reason, const HeaderMap& headers) = 0;
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
