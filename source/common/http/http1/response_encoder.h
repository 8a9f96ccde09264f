#pragma once

#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/http/codec.h"
#include "source/common/http/header_map.h"

namespace modgate::http::http1 {

class ServerConnectionImpl;

// What the response side needs to know about the request it answers.
struct RequestFraming {
  bool is_head = false;     // the body is never sent
  bool http10 = false;      // no chunked encoding; keep-alive must be announced
  bool keep_alive = false;  // the request allows the connection to persist
};

// The response side of one HTTP/1.1 stream. It frames the response
// (content-length, chunked or close-delimited) and appends it to its
// connection's output. One exists per request; once its response is complete
// or it is reset the connection hands it to deferredDelete(), because the
// producer may still be on the stack.
class ResponseEncoderImpl : public ResponseEncoder, public event::DeferredDeletable {
 public:
  ResponseEncoderImpl(ServerConnectionImpl& parent, const RequestFraming& framing);

  // ResponseEncoder
  void encodeHeaders(const ResponseHeaders& headers, bool end_stream) override;
  void encodeData(buffer::Buffer& data, bool end_stream) override;
  // Ends the body; the trailers are dropped (see ResponseEncoder).
  void encodeTrailers(const HeaderMap&) override {
    buffer::Buffer empty;
    encodeData(empty, true);
  }
  void setStreamCallbacks(StreamCallbacks& callbacks) override { callbacks_ = &callbacks; }
  void resetStream() override;
  Protocol protocol() const override { return Protocol::kHttp11; }

  // True once any byte of the response has been handed to the connection
  // (after which an error response can no longer be sent instead).
  bool headersEncoded() const { return state_ != State::kWaitingForHeaders; }

  // Ends this encoder's life as a stream: later calls from the producer are
  // ignored. Returns the callbacks to notify of the reset, if any.
  StreamCallbacks* detach();

  // The connection's output crossed its watermarks: pass it on to the
  // producer, which is the only one who can slow down.
  void onAboveWriteBufferHighWatermark();
  void onBelowWriteBufferLowWatermark();

 private:
  enum class State { kWaitingForHeaders, kEncodingBody, kComplete, kDetached };

  // Appends the status line and headers to the connection's pending output.
  void appendHead(const ResponseHeaders& headers, bool end_stream);
  void onComplete();

  ServerConnectionImpl& parent_;
  const RequestFraming framing_;
  StreamCallbacks* callbacks_ = nullptr;
  State state_ = State::kWaitingForHeaders;
  bool chunked_ = false;
  // HEAD, 1xx, 204 and 304 responses never carry a body (RFC 9112 6.3).
  bool drop_body_ = false;
  // onBelow... is only sent after a matching onAbove...
  bool above_high_watermark_ = false;
};

}  // namespace modgate::http::http1
