#include "source/upstream/http2_client_stream.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "source/upstream/http2_client_connection.h"
#include "source/upstream/string_view_compat.h"

namespace modgate::upstream {

Http2ClientStream::Http2ClientStream(Http2ClientConnection& connection,
                                     event::Dispatcher& dispatcher)
    : connection_(&connection), connection_id_(connection.id()) {
  deliver_timer_ = dispatcher.createTimer([this] { deliver(); });
}

Http2ClientStream::~Http2ClientStream() { resetStream(); }

void Http2ClientStream::sendRequest(const RequestHead& head, ResponseDecoder& decoder) {
  decoder_ = &decoder;
  if (connection_ == nullptr) {
    // The connection died between acquire and send: nothing went out.
    setFailure(FailureReason::kReset, "upstream HTTP/2 connection closed", true);
    return;
  }
  connection_->submit(*this, head);
}

void Http2ClientStream::resetStream() {
  decoder_ = nullptr;
  deliver_timer_->disableTimer();
  if (connection_ == nullptr) return;
  Http2ClientConnection* connection = connection_;
  connection_ = nullptr;
  connection->detach(*this);
}

void Http2ClientStream::readDisable(bool disable) {
  if (decoder_ == nullptr || read_disabled_ == disable) return;
  read_disabled_ = disable;
  // Not from inside the caller's stack: it may be one of our callbacks.
  if (!disable) scheduleDelivery();
}

void Http2ClientStream::sendData(buffer::Buffer& data, bool end_stream) {
  if (request_end_ || connection_ == nullptr) {
    data.drain(data.length());
    return;
  }
  request_body_.move(data);
  request_end_ = end_stream;
  if (stream_id_ > 0 && request_deferred_) {
    request_deferred_ = false;
    connection_->resumeData(stream_id_);
  }
}

ssize_t Http2ClientStream::readRequestBody(uint8_t* buffer, size_t length, bool* eof) {
  const size_t n = std::min(length, request_body_.length());
  if (n > 0) {
    request_body_.copyOut(buffer, n);
    request_body_.drain(n);
  }
  *eof = request_end_ && request_body_.length() == 0;
  if (n == 0 && !*eof) {
    request_deferred_ = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  return static_cast<ssize_t>(n);
}

void Http2ClientStream::onBeginHeaders() {
  if (headers_ready_) {
    // Trailers (gRPC's grpc-status); GOPROXY decoders ignore them.
    in_trailers_ = true;
    trailers_ = std::make_unique<http::HeaderMap>();
    header_bytes_ = 0;
    return;
  }
  // A fresh block: the response, or the one after a 1xx.
  headers_ = std::make_unique<http::ResponseHeaders>();
  header_bytes_ = 0;
}

bool Http2ClientStream::onHeader(std::string_view name, std::string_view value) {
  if (in_trailers_) {
    header_bytes_ += name.size() + value.size();
    if (header_bytes_ > Http2ClientConnection::kMaxHeaderBytes) {
      overflow_ = true;
      return false;
    }
    if (trailers_ != nullptr && !name.empty() && name.front() != ':') {
      trailers_->add(std::string(name), std::string(value));
    }
    return true;
  }
  if (headers_ == nullptr) return true;
  header_bytes_ += name.size() + value.size();
  if (header_bytes_ > Http2ClientConnection::kMaxHeaderBytes) {
    overflow_ = true;
    return false;
  }
  if (name == ":status") {
    int status = 0;
    if (absl::SimpleAtoi(toAbsl(value), &status)) headers_->status = status;
    return true;
  }
  if (!name.empty() && name.front() == ':') return true;
  // nghttp2 has checked that names are lower-case and valid.
  headers_->headers.add(std::string(name), std::string(value));
  return true;
}

void Http2ClientStream::onHeadersEnd(bool end_stream) {
  response_started_ = true;
  if (!in_trailers_ && headers_ != nullptr) {
    if (headers_->status >= 100 && headers_->status < 200) {
      // 100 Continue, 103 Early Hints: skipped, the real response follows.
      headers_.reset();
    } else {
      headers_ready_ = true;
    }
  }
  in_trailers_ = false;
  if (end_stream) remote_end_ = true;
}

void Http2ClientStream::onBody(const uint8_t* data, size_t length) {
  response_started_ = true;
  body_.add(data, length);
}

void Http2ClientStream::onRemoteReset(uint32_t error_code) {
  if (remote_end_ && headers_ready_) return;
  if (error_code == NGHTTP2_REFUSED_STREAM) {
    setFailure(FailureReason::kReset, "upstream refused the HTTP/2 stream (not processed)", true);
    return;
  }
  setFailure(FailureReason::kReset,
             absl::StrCat("upstream reset the HTTP/2 stream: ", nghttp2_http2_strerror(error_code)),
             false);
}

void Http2ClientStream::onClosed(uint32_t error_code) {
  stream_id_ = -1;  // nghttp2 forgot it: no more window credits
  if (remote_end_ && headers_ready_) return;
  if (overflow_) {
    setFailure(FailureReason::kOverflow, "response headers too large", false);
  } else if (error_code == NGHTTP2_REFUSED_STREAM) {
    setFailure(FailureReason::kReset, "upstream refused the HTTP/2 stream (not processed)", true);
  } else if (error_code == NGHTTP2_PROTOCOL_ERROR) {
    // nghttp2 found the response malformed and reset the stream.
    setFailure(FailureReason::kProtocolError, "bad HTTP/2 response", false);
  } else {
    setFailure(FailureReason::kReset,
               absl::StrCat("upstream HTTP/2 stream reset: ", nghttp2_http2_strerror(error_code)),
               false);
  }
}

void Http2ClientStream::onConnectionGone(FailureReason reason, const std::string& detail) {
  connection_ = nullptr;
  stream_id_ = -1;
  if (remote_end_ && headers_ready_) {
    // Complete already; what is buffered is still delivered.
    if (decoder_ != nullptr) scheduleDelivery();
    return;
  }
  if (failure_.has_value()) return;
  setFailure(reason, detail, false);
}

void Http2ClientStream::setFailure(FailureReason reason, std::string detail, bool refused) {
  if (failure_.has_value()) return;
  failure_ = Failure{reason, std::move(detail), refused};
  if (decoder_ != nullptr) scheduleDelivery();
}

void Http2ClientStream::deliver() {
  if (decoder_ == nullptr) return;
  if (failure_.has_value()) {
    // The response cannot complete: what is buffered is of no use.
    ResponseDecoder* decoder = decoder_;
    decoder_ = nullptr;
    body_.drain(body_.length());
    if (failure_->refused) {
      decoder->onStreamRefused(failure_->detail);
    } else {
      decoder->onStreamFailure(failure_->reason, failure_->detail, response_started_);
    }
    return;
  }
  if (read_disabled_ || !headers_ready_) return;
  if (!headers_delivered_) {
    headers_delivered_ = true;
    if (remote_end_ && body_.length() == 0) {
      ResponseDecoder* decoder = decoder_;
      decoder_ = nullptr;
      decoder->decodeHeaders(std::move(headers_), true);
      return;
    }
    decoder_->decodeHeaders(std::move(headers_), false);
    if (decoder_ == nullptr || read_disabled_ || failure_.has_value()) return;
  }
  if (remote_end_) {
    ResponseDecoder* decoder = decoder_;
    if (trailers_ != nullptr) {
      decoder->decodeTrailers(std::move(trailers_));
      if (decoder_ == nullptr) return;  // it let go of the stream
    }
    decoder_ = nullptr;
    decoder->decodeData(body_, true);
    return;
  }
  if (body_.length() == 0) return;
  const size_t before = body_.length();
  decoder_->decodeData(body_, false);
  const size_t drained = before - body_.length();
  // Only drained bytes reopen the window: what the reader leaves (or what
  // piles up while it is paused) holds the origin back.
  if (drained > 0 && connection_ != nullptr && stream_id_ > 0) {
    connection_->consume(stream_id_, drained);
  }
}

}  // namespace modgate::upstream
