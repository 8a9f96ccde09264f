#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "source/common/buffer/buffer.h"
#include "source/common/http/header_map.h"

namespace modgate::http {

enum class Protocol { kHttp11, kHttp2 };

enum class StreamResetReason {
  kRemoteReset,            // RST_STREAM from the client
  kConnectionTermination,  // the connection closed under the stream
  kLocalReset,             // we reset it (resetStream())
  kProtocolError,
};

// Limits and tunables shared by both server codecs.
struct CodecSettings {
  uint32_t max_request_headers_kb = 60;  // all header names+values of one request
  uint32_t max_headers_count = 100;
  // Total request body bytes of one stream; 0 = no limit, for streaming
  // protocols (gRPC) that bound each message instead.
  uint32_t max_request_body_bytes = 64 * 1024;  // GOPROXY requests have no body
  uint32_t max_concurrent_streams = 100;        // HTTP/2
  uint32_t initial_stream_window_size = 256 * 1024;
  uint32_t initial_connection_window_size = 1024 * 1024;
  // A stream whose unsent response bytes exceed this asks its producer to
  // pause (onAboveWriteBufferHighWatermark) and resumes it at half.
  uint32_t stream_write_buffer_high_watermark = 1024 * 1024;
  bool allow_h2c_upgrade = true;
  // HTTP/1.1: pipelined requests in a row (each arrived before the previous
  // response was finished). The one that reaches this many is answered
  // with "connection: close" and the rest of the pipeline is dropped, so
  // one connection cannot queue requests without end. 0 = no cap (the
  // codec's default; the server takes limits.max_pipelined_requests).
  uint32_t max_pipelined_requests = 0;
  // HTTP/2 flood and rate limits (limits.http2; see Http2Protection in
  // bootstrap.proto). Passing one ends the connection with GOAWAY.
  uint32_t http2_max_outbound_control_frames = 1000;
  uint32_t http2_max_settings_entries = 32;
  uint32_t http2_max_continuation_frames = 8;
  uint32_t http2_stream_reset_burst = 200;
  uint32_t http2_stream_resets_per_second = 33;
};

// Events about one stream, for whoever produces its response.
class StreamCallbacks {
 public:
  virtual ~StreamCallbacks() = default;
  // The stream is gone (client reset, connection closed): stop producing.
  // The encoder must not be used after this.
  virtual void onResetStream(StreamResetReason reason) = 0;
  // Unsent response bytes went above the high watermark: pause.
  virtual void onAboveWriteBufferHighWatermark() = 0;
  // ... and fell back below the low watermark: resume.
  virtual void onBelowWriteBufferLowWatermark() = 0;
};

// The response side of one stream, implemented by each codec.
class ResponseEncoder {
 public:
  virtual ~ResponseEncoder() = default;
  // The codec adds framing (content-length or chunked for HTTP/1.1) and drops
  // the body of a HEAD response.
  virtual void encodeHeaders(const ResponseHeaders& headers, bool end_stream) = 0;
  // Moves all of `data` out (zero-copy where the transport allows).
  virtual void encodeData(buffer::Buffer& data, bool end_stream) = 0;
  // Ends the response with trailers (gRPC's grpc-status). HTTP/2: a HEADERS
  // frame with END_STREAM after the data. HTTP/1.1 has no trailers outside
  // chunked encoding: the body ends and the trailers are dropped.
  virtual void encodeTrailers(const HeaderMap& trailers) = 0;
  virtual void setStreamCallbacks(StreamCallbacks& callbacks) = 0;
  // Abandons the stream (HTTP/2: RST_STREAM; HTTP/1.1: close the connection).
  virtual void resetStream() = 0;
  virtual Protocol protocol() const = 0;
};

// The request side of one stream, implemented by the connection manager.
class RequestDecoder {
 public:
  virtual ~RequestDecoder() = default;
  virtual void decodeHeaders(std::unique_ptr<RequestHeaders> headers, bool end_stream) = 0;
  virtual void decodeData(buffer::Buffer& data, bool end_stream) = 0;
};

class ServerConnectionCallbacks {
 public:
  virtual ~ServerConnectionCallbacks() = default;
  // A request's headers are complete; the codec calls decodeHeaders() on the
  // returned decoder next. The stream lives until its response is fully
  // encoded or it is reset.
  virtual RequestDecoder& newStream(ResponseEncoder& encoder) = 0;
  // HTTP/1.1 only: the request upgraded to h2c (RFC 7540 3.2). The codec
  // has already consumed the request and written "101 Switching Protocols";
  // it must not be used after this call. `rest` holds bytes after the
  // request (the client preface).
  virtual void onUpgradeToH2c(std::unique_ptr<RequestHeaders> request, std::string http2_settings,
                              buffer::Buffer& rest) = 0;
};

// A server-side protocol codec over one network connection. It writes to
// the connection itself.
class ServerConnection {
 public:
  virtual ~ServerConnection() = default;
  // Feeds bytes read from the network and drains what it consumed. A
  // non-OK status is a protocol error: the codec has queued any error
  // response that fits, and the caller closes after flushing.
  virtual absl::Status dispatch(buffer::Buffer& data) = 0;
  // Graceful drain: no new streams (HTTP/2 GOAWAY, HTTP/1.1 Connection: close).
  virtual void shutdownNotice() = 0;
  virtual Protocol protocol() const = 0;
  // True once the connection should be closed after pending output is
  // flushed (HTTP/1.1 "Connection: close" answered; HTTP/2 GOAWAY done).
  virtual bool wantsToClose() const = 0;
  // The network connection's output crossed its watermarks.
  virtual void onUnderlyingConnectionAboveWriteBufferHighWatermark() = 0;
  virtual void onUnderlyingConnectionBelowWriteBufferLowWatermark() = 0;
};
using ServerConnectionPtr = std::unique_ptr<ServerConnection>;

}  // namespace modgate::http
