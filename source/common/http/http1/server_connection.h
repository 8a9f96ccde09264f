#pragma once

#include <http_parser.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/http/codec.h"
#include "source/common/http/header_map.h"
#include "source/common/http/http1/response_encoder.h"
#include "source/common/network/connection.h"

namespace modgate::http::http1 {

// The downstream HTTP/1.1 codec: parses requests with http-parser and writes
// responses to the network connection itself.
//
// Requests are answered strictly one at a time. Once a request's message is
// complete, parsing stops until its response has been fully encoded; bytes of
// pipelined requests are held meanwhile (reading from the socket stops when
// too many pile up) and parsed afterwards, either by the dispatch() loop that
// is still on the stack or, for responses finished later, from a zero-delay
// timer. Neither path recurses, however many requests are pipelined.
//
// Ownership rules for the owner (normally the connection manager):
//  * it closes the connection when dispatch() fails, or when wantsToClose()
//    is true and no stream is left (after a stream finishes, or after
//    dispatch() returns);
//  * it calls onConnectionClosed() when the network connection closes;
//  * it destroys the codec outside of the codec's own calls into it (after
//    onUpgradeToH2c() or a close event: use deferredDelete()).
// The codec closes the connection on its own only for resetStream() and for
// protocol errors found while parsing held pipelined input from its timer,
// where there is no dispatch() call to report them through.
class ServerConnectionImpl : public ServerConnection {
 public:
  ServerConnectionImpl(network::Connection& connection, ServerConnectionCallbacks& callbacks,
                       const CodecSettings& settings);
  ~ServerConnectionImpl() override;

  // ServerConnection
  absl::Status dispatch(buffer::Buffer& data) override;
  void shutdownNotice() override;
  Protocol protocol() const override { return Protocol::kHttp11; }
  bool wantsToClose() const override { return wants_to_close_; }
  void onUnderlyingConnectionAboveWriteBufferHighWatermark() override;
  void onUnderlyingConnectionBelowWriteBufferLowWatermark() override;

  // Not part of ServerConnection: the owner calls this once the network
  // connection has closed (either side). A stream whose response was still
  // in progress gets onResetStream(kConnectionTermination); nothing is
  // written or parsed afterwards. Safe to call more than once.
  void onConnectionClosed();

 private:
  friend class ResponseEncoderImpl;

  // How a run of the parse loop ended.
  enum class Progress {
    kIdle,      // everything parsable was parsed; the rest (if any) is held
    kError,     // protocol error: the error response is queued
    kClosed,    // the connection closed under us
    kUpgraded,  // handed over to HTTP/2: `this` must not be touched again
  };

  // http-parser callbacks; parser->data is the codec.
  static int onMessageBeginCb(http_parser* parser);
  static int onUrlCb(http_parser* parser, const char* at, size_t length);
  static int onHeaderFieldCb(http_parser* parser, const char* at, size_t length);
  static int onHeaderValueCb(http_parser* parser, const char* at, size_t length);
  static int onHeadersCompleteCb(http_parser* parser);
  static int onBodyCb(http_parser* parser, const char* at, size_t length);
  static int onMessageCompleteCb(http_parser* parser);

  int onMessageBegin();
  int onUrl(const char* at, size_t length);
  int onHeaderField(const char* at, size_t length);
  int onHeaderValue(const char* at, size_t length);
  int onHeadersComplete();
  int onBody(const char* at, size_t length);
  int onMessageComplete();

  // Moves the header field/value just read into the request.
  bool commitHeader();
  // Sets path and authority from the request-target.
  bool processRequestTarget();
  bool isH2cUpgrade(bool has_body) const;
  // Records a protocol error found in a callback; returns the callback's
  // error code so http-parser stops.
  int fail(int status, std::string_view reason);

  Progress processBuffered();
  Progress onParseError(http_errno error);
  // Queues a "<status> text/plain" response naming `reason`, with close.
  void writeErrorResponse(int status, std::string_view reason);
  Progress upgradeToH2c();
  void onDeferredWork();
  void scheduleDeferredWork(bool resume_parsing);
  void updateReadDisable();

  // For ResponseEncoderImpl.
  void flushOutput();
  void onResponseComplete(ResponseEncoderImpl& encoder);
  void onLocalReset(ResponseEncoderImpl& encoder);
  // Detaches the active stream and hands the encoder to deferredDelete().
  StreamCallbacks* retireActiveStream();

  network::Connection& connection_;
  ServerConnectionCallbacks& callbacks_;
  const CodecSettings settings_;
  http_parser parser_;
  http_parser_settings parser_settings_;

  // Bytes received but not parsed yet (pipelined requests while a response
  // is in progress). Filled by relinking the caller's slices, not copying.
  buffer::Buffer buffered_;
  // Response bytes not yet handed to the connection: the head waits here so
  // it goes out together with the first body bytes.
  buffer::Buffer output_;
  // Scratch for building one response head; keeps its capacity.
  std::string head_;
  // Flushes a lone response head and resumes parsing held input after a
  // response finished outside dispatch().
  event::TimerPtr deferred_timer_;
  bool resume_pending_ = false;

  // The request being parsed.
  std::unique_ptr<RequestHeaders> request_;
  std::string url_;
  std::string field_;
  std::string value_;
  bool reading_value_ = false;
  bool host_seen_ = false;
  size_t header_bytes_ = 0;
  uint32_t header_count_ = 0;
  uint64_t body_bytes_ = 0;
  buffer::Buffer body_;
  bool in_request_ = false;  // between message begin and message complete
  // No response byte has been written for the current request, so a parse
  // error can still be answered with an error response.
  bool can_send_error_ = true;

  // The stream of the request being answered, until its response is done.
  std::unique_ptr<ResponseEncoderImpl> active_;
  // Where the rest of the current request goes; null once the stream is
  // finished (its remaining body is then read and discarded).
  RequestDecoder* decoder_ = nullptr;
  bool decoder_ended_ = false;

  // h2c upgrade accepted in onHeadersComplete, carried out after the parser
  // returns.
  bool upgrade_pending_ = false;
  std::string http2_settings_;

  // Error found by a callback.
  int error_status_ = 0;
  std::string error_reason_;

  bool dispatching_ = false;
  bool wants_to_close_ = false;
  // Pipelined requests in a row (settings_.max_pipelined_requests), told
  // by the read that brought them: read_batch_ counts dispatch() calls.
  uint32_t pipelined_run_ = 0;
  uint64_t read_batch_ = 0;
  uint64_t last_begin_batch_ = 0;
  uint64_t requests_begun_ = 0;
  // processBuffered() runs for held requests, not for newly read bytes.
  bool resuming_ = false;
  bool shutdown_notice_ = false;
  bool closed_ = false;
  bool failed_ = false;
  bool upgraded_ = false;
  bool above_high_watermark_ = false;
  bool read_disabled_ = false;
};

}  // namespace modgate::http::http1
