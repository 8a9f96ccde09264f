#include "source/upstream/http1_client_connection.h"

#include <climits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "source/upstream/string_view_compat.h"

namespace modgate::upstream {
namespace {

Http1ClientConnection* self(http_parser* parser) {
  return static_cast<Http1ClientConnection*>(parser->data);
}

// Request headers that the codec owns (framing, hop-by-hop) and that callers
// cannot add.
bool reservedRequestHeader(std::string_view name) {
  return name == "host" || name == "connection" || name == "content-length" ||
         name == "transfer-encoding" || name == "te" || name == "upgrade" || name == "keep-alive" ||
         name == "proxy-connection";
}

}  // namespace

const http_parser_settings& Http1ClientConnection::parserSettings() {
  static const http_parser_settings settings = [] {
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_message_begin = &Http1ClientConnection::onMessageBeginCb;
    s.on_header_field = &Http1ClientConnection::onHeaderFieldCb;
    s.on_header_value = &Http1ClientConnection::onHeaderValueCb;
    s.on_headers_complete = &Http1ClientConnection::onHeadersCompleteCb;
    s.on_body = &Http1ClientConnection::onBodyCb;
    s.on_message_complete = &Http1ClientConnection::onMessageCompleteCb;
    return s;
  }();
  return settings;
}

Http1ClientConnection::Http1ClientConnection(network::ConnectionPtr connection)
    : connection_(std::move(connection)) {
  connection_->setCallbacks(*this);
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
  resume_timer_ = connection_->dispatcher().createTimer([this] {
    dispatch();
    if (streamActive() && peer_closed_ && !read_disabled_ && input_.length() == 0) onPeerClosed();
  });
}

Http1ClientConnection::~Http1ClientConnection() = default;

void Http1ClientConnection::sendRequest(const RequestHead& head, ResponseDecoder& decoder) {
  decoder_ = &decoder;
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
  body_.drain(body_.length());
  headers_.reset();
  headers_ready_ = false;
  eof_framed_ = false;
  head_request_ = head.method == "HEAD";
  response_started_ = false;
  headers_delivered_ = false;
  no_body_ = false;
  informational_ = false;
  keep_alive_ = false;
  message_complete_ = false;
  reusable_ = false;
  overflow_ = false;
  read_disabled_ = false;

  std::string text =
      absl::StrCat(head.method, " ", head.target, " HTTP/1.1\r\nHost: ", head.authority, "\r\n");
  bool user_agent = false;
  bool accept_encoding = false;
  if (head.extra_headers != nullptr) {
    for (const auto& entry : head.extra_headers->entries()) {
      if (reservedRequestHeader(entry.name)) continue;
      user_agent |= entry.name == "user-agent";
      accept_encoding |= entry.name == "accept-encoding";
      absl::StrAppend(&text, entry.name, ": ", entry.value, "\r\n");
    }
  }
  if (!user_agent) text += "User-Agent: modgate/0.1\r\n";
  // Bodies are stored and served as the origin's bytes: never ask for gzip.
  if (!accept_encoding) text += "Accept-Encoding: identity\r\n";
  text += "\r\n";
  buffer::Buffer out;
  out.add(text);
  connection_->write(out);
}

void Http1ClientConnection::resetStream() {
  decoder_ = nullptr;
  reusable_ = false;
  connection_->close(network::CloseType::kNoFlush);
}

void Http1ClientConnection::close() {
  decoder_ = nullptr;
  reusable_ = false;
  connection_->close(network::CloseType::kNoFlush);
}

bool Http1ClientConnection::reusable() const {
  return reusable_ && !peer_closed_ && connection_->isOpen();
}

void Http1ClientConnection::readDisable(bool disable) {
  if (!streamActive() || read_disabled_ == disable) return;
  read_disabled_ = disable;
  connection_->readDisable(disable);
  if (!disable && (input_.length() > 0 || peer_closed_)) {
    // Not from inside the caller's stack: it may be one of our callbacks.
    resume_timer_->enableTimer(std::chrono::milliseconds(0));
  }
}

void Http1ClientConnection::onData(buffer::Buffer& data) {
  // Owning the bytes keeps them valid even if a callback closes the
  // connection (which frees the transport's input buffer).
  input_.move(data);
  if (!streamActive()) {
    // Nothing is expected on an idle connection: it cannot be reused.
    input_.drain(input_.length());
    reusable_ = false;
    connection_->close(network::CloseType::kNoFlush);
    return;
  }
  response_started_ = true;
  dispatch();
}

void Http1ClientConnection::onEvent(network::ConnectionEvent event) {
  if (event == network::ConnectionEvent::kConnected) return;
  resume_timer_->disableTimer();
  if (slot_ != nullptr) slot_->release();
  if (event == network::ConnectionEvent::kRemoteClose) {
    peer_closed_ = true;
    reusable_ = false;
    if (streamActive()) {
      dispatch();
      // With reads disabled the rest of the input waits: readDisable(false)
      // finishes the stream later.
      if (streamActive() && !(read_disabled_ && input_.length() > 0)) onPeerClosed();
    }
  }
  if (close_cb_) {
    // The callback may replace itself.
    auto cb = close_cb_;
    cb();
  }
}

void Http1ClientConnection::dispatch() {
  if (dispatching_) return;
  dispatching_ = true;
  while (streamActive() && !read_disabled_ && input_.length() > 0) {
    iovec vec;
    input_.peek(&vec, 1, input_.length());
    size_t parsed = http_parser_execute(&parser_, &parserSettings(),
                                        static_cast<const char*>(vec.iov_base), vec.iov_len);
    input_.drain(parsed);
    http_errno error = HTTP_PARSER_ERRNO(&parser_);
    if (error == HPE_PAUSED) {
      http_parser_pause(&parser_, 0);
    } else if (error != HPE_OK) {
      bool overflow = overflow_ || error == HPE_HEADER_OVERFLOW;
      failStream(overflow ? FailureReason::kOverflow : FailureReason::kProtocolError,
                 overflow ? std::string("response headers too large")
                          : absl::StrCat("bad response: ", http_errno_description(error)));
      break;
    } else if (parsed < vec.iov_len) {
      failStream(FailureReason::kProtocolError, "bad response: parser stopped early");
      break;
    }
    deliver();
  }
  dispatching_ = false;
  if (!streamActive() && input_.length() > 0 && connection_->isOpen()) {
    // Bytes after the end of a response: the connection is out of step.
    input_.drain(input_.length());
    reusable_ = false;
    connection_->close(network::CloseType::kNoFlush);
  }
}

void Http1ClientConnection::deliver() {
  // Runs outside of http_parser_execute(), so the decoder may do anything:
  // reset the stream, or end it and reuse this connection for the next one.
  if (headers_ready_ && !headers_delivered_ && !no_body_) {
    headers_delivered_ = true;
    decoder_->decodeHeaders(std::move(headers_), false);
    if (!streamActive()) return;
  }
  if (message_complete_) {
    ResponseDecoder* decoder = decoder_;
    endStream();
    if (no_body_) {
      headers_delivered_ = true;
      decoder->decodeHeaders(std::move(headers_), true);
    } else {
      decoder->decodeData(body_, true);
    }
    return;
  }
  if (body_.length() > 0) decoder_->decodeData(body_, false);
}

void Http1ClientConnection::endStream() {
  decoder_ = nullptr;
  reusable_ = keep_alive_ && input_.length() == 0 && !peer_closed_ && connection_->isOpen();
  if (read_disabled_) {
    read_disabled_ = false;
    connection_->readDisable(false);
  }
}

void Http1ClientConnection::onPeerClosed() {
  if (!streamActive()) return;
  if (headers_delivered_ && !message_complete_ && eof_framed_) {
    // Read-until-close framing: EOF ends the body.
    http_parser_execute(&parser_, &parserSettings(), nullptr, 0);
    if (message_complete_) {
      deliver();
      return;
    }
  }
  failStream(FailureReason::kReset, response_started_
                                        ? "upstream connection closed mid-response"
                                        : "upstream connection closed before any response byte");
}

void Http1ClientConnection::failStream(FailureReason reason, std::string detail) {
  ResponseDecoder* decoder = decoder_;
  decoder_ = nullptr;
  reusable_ = false;
  connection_->close(network::CloseType::kNoFlush);
  if (decoder != nullptr) decoder->onStreamFailure(reason, detail, response_started_);
}

int Http1ClientConnection::onMessageBeginCb(http_parser* parser) {
  Http1ClientConnection& c = *self(parser);
  c.headers_ = std::make_unique<http::ResponseHeaders>();
  c.field_.clear();
  c.value_.clear();
  c.in_value_ = false;
  c.header_bytes_ = 0;
  c.headers_ready_ = false;
  c.informational_ = false;
  return 0;
}

int Http1ClientConnection::onHeaderFieldCb(http_parser* parser, const char* at, size_t length) {
  return self(parser)->onHeaderField(at, length);
}

int Http1ClientConnection::onHeaderValueCb(http_parser* parser, const char* at, size_t length) {
  return self(parser)->onHeaderValue(at, length);
}

int Http1ClientConnection::onHeadersCompleteCb(http_parser* parser) {
  return self(parser)->onHeadersComplete();
}

int Http1ClientConnection::onBodyCb(http_parser* parser, const char* at, size_t length) {
  return self(parser)->onBody(at, length);
}

int Http1ClientConnection::onMessageCompleteCb(http_parser* parser) {
  return self(parser)->onMessageComplete();
}

int Http1ClientConnection::onHeaderField(const char* at, size_t length) {
  if (in_value_) commitHeader();
  field_.append(at, length);
  header_bytes_ += length;
  if (header_bytes_ > kMaxHeaderBytes) {
    overflow_ = true;
    return 1;
  }
  return 0;
}

int Http1ClientConnection::onHeaderValue(const char* at, size_t length) {
  in_value_ = true;
  value_.append(at, length);
  header_bytes_ += length;
  if (header_bytes_ > kMaxHeaderBytes) {
    overflow_ = true;
    return 1;
  }
  return 0;
}

void Http1ClientConnection::commitHeader() {
  std::string name = absl::AsciiStrToLower(field_);
  absl::string_view value = absl::StripAsciiWhitespace(value_);
  headers_->headers.add(std::move(name), std::string(value.data(), value.size()));
  field_.clear();
  value_.clear();
  in_value_ = false;
}

int Http1ClientConnection::onHeadersComplete() {
  if (in_value_ || !field_.empty()) commitHeader();
  const int status = parser_.status_code;
  if (status >= 100 && status < 200) {
    // 100 Continue, 103 Early Hints: skipped, the real response follows.
    informational_ = true;
    return 0;
  }
  headers_->status = status;
  keep_alive_ = http_should_keep_alive(&parser_) != 0;
  no_body_ = head_request_ || status == 204 || status == 304 ||
             ((parser_.flags & F_CHUNKED) == 0 && parser_.content_length == 0);
  eof_framed_ =
      !no_body_ && (parser_.flags & F_CHUNKED) == 0 && parser_.content_length == ULLONG_MAX;
  headers_ready_ = true;
  // Stop so that the headers reach the decoder before any body byte. A
  // response without a body completes right away and is delivered then.
  if (!no_body_) http_parser_pause(&parser_, 1);
  // 1 = no body whatever the framing headers say (HEAD; 304 often carries
  // the full representation's content-length).
  return head_request_ || status == 204 || status == 304 ? 1 : 0;
}

int Http1ClientConnection::onBody(const char* at, size_t length) {
  body_.add(at, length);
  return 0;
}

int Http1ClientConnection::onMessageComplete() {
  if (informational_) {
    informational_ = false;
    return 0;
  }
  message_complete_ = true;
  // Whatever follows belongs to no request of ours.
  http_parser_pause(&parser_, 1);
  return 0;
}

}  // namespace modgate::upstream
