#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/http/header_map.h"
#include "source/upstream/client_connection.h"

namespace modgate::upstream {

class Http2ClientConnection;

// One request's stream on a pooled Http2ClientConnection, presented as a
// ClientConnection so that UpstreamRequestImpl (redirects, timeouts, retries)
// runs unchanged over HTTP/1.1 and HTTP/2. close()/resetStream() end this
// stream only (RST_STREAM if it is still open); the connection stays in its
// pool. Never reusable: after the exchange the handle is simply dropped.
//
// While nghttp2 parses, the connection only records into the stream
// (headers, body, end, failure); deliver() hands that to the decoder
// afterwards, so a decoder may do anything, including starting new streams.
class Http2ClientStream : public ClientConnection {
 public:
  Http2ClientStream(Http2ClientConnection& connection, event::Dispatcher& dispatcher);
  ~Http2ClientStream() override;

  // ClientConnection
  void sendRequest(const RequestHead& head, ResponseDecoder& decoder) override;
  void resetStream() override;
  void readDisable(bool disable) override;
  bool reusable() const override { return false; }
  bool isOpen() const override { return connection_ != nullptr; }
  void close() override { resetStream(); }
  // Unused: a dying connection reaches the decoder as a stream failure.
  void setCloseCallback(std::function<void()> cb) override {}
  uint64_t id() const override { return connection_id_; }

  size_t bufferedBytes() const { return body_.length(); }

  // With RequestHead::streaming_body: queues request body bytes (drained
  // from `data`) and, with `end_stream`, ends the request. Sent as the
  // origin's flow control allows; a no-op once the stream is gone (the
  // decoder hears about that) or after the end.
  void sendData(buffer::Buffer& data, bool end_stream);
  // Request body bytes queued and not yet taken by nghttp2.
  size_t pendingRequestBytes() const { return request_body_.length(); }

 private:
  friend class Http2ClientConnection;

  struct Failure {
    FailureReason reason;
    std::string detail;
    bool refused;  // not processed by the origin: safe to retry
  };

  // From the connection while nghttp2 parses: record only.
  void onBeginHeaders();
  // False when the headers grew past the limit.
  bool onHeader(std::string_view name, std::string_view value);
  void onHeadersEnd(bool end_stream);
  void onBody(const uint8_t* data, size_t length);
  void onRemoteEnd() { remote_end_ = true; }
  void onRemoteReset(uint32_t error_code);
  void onClosed(uint32_t error_code);
  // The connection went away; a stream that had not ended fails.
  void onConnectionGone(FailureReason reason, const std::string& detail);
  void setFailure(FailureReason reason, std::string detail, bool refused);

  // Hands recorded events to the decoder. Outside of nghttp2 only.
  void deliver();
  void scheduleDelivery() { deliver_timer_->enableTimer(std::chrono::milliseconds(0)); }

  Http2ClientConnection* connection_;  // null once detached
  const uint64_t connection_id_;
  int32_t stream_id_ = -1;  // -1 until submitted and once nghttp2 closed it
  bool submitted_ = false;
  ResponseDecoder* decoder_ = nullptr;
  // nghttp2's data source: copies up to `length` queued request bytes.
  // Returns the bytes copied with *eof set at the end, or
  // NGHTTP2_ERR_DEFERRED while the caller has nothing queued.
  ssize_t readRequestBody(uint8_t* buffer, size_t length, bool* eof);

  std::unique_ptr<http::ResponseHeaders> headers_;
  std::unique_ptr<http::HeaderMap> trailers_;
  buffer::Buffer request_body_;
  bool request_end_ = false;
  // nghttp2 deferred the body and waits for resumeData.
  bool request_deferred_ = false;
  size_t header_bytes_ = 0;
  bool in_trailers_ = false;
  bool overflow_ = false;
  bool headers_ready_ = false;
  bool headers_delivered_ = false;
  bool remote_end_ = false;
  bool response_started_ = false;
  bool read_disabled_ = false;
  buffer::Buffer body_;
  std::optional<Failure> failure_;
  event::TimerPtr deliver_timer_;
};

}  // namespace modgate::upstream
