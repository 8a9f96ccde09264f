#include "source/common/http/http1/server_connection.h"

#include <charconv>
#include <chrono>
#include <climits>
#include <utility>

#include "source/common/http/http1/http_date.h"
#include "source/common/http/http1/reason_phrase.h"

namespace modgate::http::http1 {
namespace {

// Pipelined input held while a response is in progress; beyond this the
// socket is no longer read, so a client cannot make us buffer without bound.
constexpr size_t kMaxHeldInput = 64 * 1024;

// RFC 9110 5.6.2 tchar.
bool isTokenChar(unsigned char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

char toLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (toLower(a[i]) != toLower(b[i])) return false;
  }
  return true;
}

std::string_view trimWhitespace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True if the comma-separated list `value` holds `token` (case-insensitive).
bool hasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = trimWhitespace(value.substr(0, comma));
    if (equalsIgnoreCase(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

bool messageHasBody(const http_parser& parser) {
  return (parser.flags & F_CHUNKED) != 0 ||
         (parser.content_length > 0 && parser.content_length != ULLONG_MAX);
}

// A short, client-facing name for what http-parser rejected.
std::pair<int, std::string_view> describeParseError(http_errno error) {
  switch (error) {
    case HPE_HEADER_OVERFLOW:
      return {431, "request header fields too large"};
    case HPE_INVALID_METHOD:
      return {400, "bad request: invalid method"};
    case HPE_INVALID_URL:
      return {400, "bad request: invalid request target"};
    case HPE_INVALID_VERSION:
      return {400, "bad request: invalid HTTP version"};
    case HPE_INVALID_CONTENT_LENGTH:
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      return {400, "bad request: invalid content-length"};
    case HPE_INVALID_TRANSFER_ENCODING:
      return {400, "bad request: invalid transfer-encoding"};
    case HPE_INVALID_CHUNK_SIZE:
      return {400, "bad request: invalid chunked body"};
    case HPE_INVALID_HEADER_TOKEN:
    case HPE_LF_EXPECTED:
    case HPE_INVALID_CONSTANT:
    case HPE_STRICT:
      return {400, "bad request: invalid header"};
    default:
      return {400, "bad request: malformed request"};
  }
}

}  // namespace

ServerConnectionImpl::ServerConnectionImpl(network::Connection& connection,
                                           ServerConnectionCallbacks& callbacks,
                                           const CodecSettings& settings)
    : connection_(connection), callbacks_(callbacks), settings_(settings) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
  http_parser_settings_init(&parser_settings_);
  parser_settings_.on_message_begin = &ServerConnectionImpl::onMessageBeginCb;
  parser_settings_.on_url = &ServerConnectionImpl::onUrlCb;
  parser_settings_.on_header_field = &ServerConnectionImpl::onHeaderFieldCb;
  parser_settings_.on_header_value = &ServerConnectionImpl::onHeaderValueCb;
  parser_settings_.on_headers_complete = &ServerConnectionImpl::onHeadersCompleteCb;
  parser_settings_.on_body = &ServerConnectionImpl::onBodyCb;
  parser_settings_.on_message_complete = &ServerConnectionImpl::onMessageCompleteCb;
  deferred_timer_ = connection_.dispatcher().createTimer([this] { onDeferredWork(); });
  // With one response at a time the connection's output is the stream's
  // output, so the per-stream limit applies to the connection.
  const size_t high = settings_.stream_write_buffer_high_watermark;
  connection_.setWriteBufferWatermarks(high / 2, high);
}

ServerConnectionImpl::~ServerConnectionImpl() {
  // A producer may still hold the encoder; detached, it ignores every call.
  if (active_ != nullptr) retireActiveStream();
}

absl::Status ServerConnectionImpl::dispatch(buffer::Buffer& data) {
  if (failed_) {
    data.drain(data.length());
    return absl::InvalidArgumentError(error_reason_);
  }
  if (closed_ || upgraded_) {
    data.drain(data.length());
    return absl::OkStatus();
  }
  buffered_.move(data);
  ++read_batch_;
  dispatching_ = true;
  const Progress progress = processBuffered();
  if (progress == Progress::kUpgraded) return absl::OkStatus();  // `this` may be retired
  dispatching_ = false;
  if (progress == Progress::kError) return absl::InvalidArgumentError(error_reason_);
  return absl::OkStatus();
}

ServerConnectionImpl::Progress ServerConnectionImpl::processBuffered() {
  while (buffered_.length() > 0) {
    if (closed_) return Progress::kClosed;
    // Strict ordering: the next request waits until this response is done.
    if (active_ != nullptr && !in_request_) break;
    if (wants_to_close_ && !in_request_) {
      // "Connection: close" was (or will be) sent: later requests go unanswered.
      buffered_.drain(buffered_.length());
      break;
    }
    // Don't start new requests while the client is not reading the answers.
    if (above_high_watermark_ && !in_request_) break;

    iovec slice;
    buffered_.peek(&slice, 1, buffered_.length());
    const size_t parsed = http_parser_execute(
        &parser_, &parser_settings_, static_cast<const char*>(slice.iov_base), slice.iov_len);
    if (closed_) return Progress::kClosed;
    buffered_.drain(parsed);
    const http_errno error = HTTP_PARSER_ERRNO(&parser_);
    if (error == HPE_PAUSED) {
      // Paused only to return here; the checks above decide what's next.
      http_parser_pause(&parser_, 0);
    } else if (error != HPE_OK) {
      return onParseError(error);
    } else if (parsed == 0) {
      // Cannot happen with a non-empty slice; don't spin if it does.
      return onParseError(HPE_UNKNOWN);
    }
    if (upgrade_pending_) return upgradeToH2c();
    if (decoder_ != nullptr && body_.length() > 0) {
      decoder_->decodeData(body_, false);
      if (closed_) return Progress::kClosed;
    }
  }
  updateReadDisable();
  return Progress::kIdle;
}

void ServerConnectionImpl::updateReadDisable() {
  const bool disable = buffered_.length() >= kMaxHeldInput;
  if (disable != read_disabled_ && !closed_) {
    read_disabled_ = disable;
    connection_.readDisable(disable);
  }
}

// --- http-parser callbacks -------------------------------------------------

int ServerConnectionImpl::onMessageBeginCb(http_parser* parser) {
  return static_cast<ServerConnectionImpl*>(parser->data)->onMessageBegin();
}
int ServerConnectionImpl::onUrlCb(http_parser* parser, const char* at, size_t length) {
  return static_cast<ServerConnectionImpl*>(parser->data)->onUrl(at, length);
}
int ServerConnectionImpl::onHeaderFieldCb(http_parser* parser, const char* at, size_t length) {
  return static_cast<ServerConnectionImpl*>(parser->data)->onHeaderField(at, length);
}
int ServerConnectionImpl::onHeaderValueCb(http_parser* parser, const char* at, size_t length) {
  return static_cast<ServerConnectionImpl*>(parser->data)->onHeaderValue(at, length);
}
int ServerConnectionImpl::onHeadersCompleteCb(http_parser* parser) {
  return static_cast<ServerConnectionImpl*>(parser->data)->onHeadersComplete();
}
int ServerConnectionImpl::onBodyCb(http_parser* parser, const char* at, size_t length) {
  return static_cast<ServerConnectionImpl*>(parser->data)->onBody(at, length);
}
int ServerConnectionImpl::onMessageCompleteCb(http_parser* parser) {
  return static_cast<ServerConnectionImpl*>(parser->data)->onMessageComplete();
}

int ServerConnectionImpl::fail(int status, std::string_view reason) {
  error_status_ = status;
  error_reason_.assign(reason.data(), reason.size());
  return -1;
}

int ServerConnectionImpl::onMessageBegin() {
  // Pipelined: this request came in the same read as the previous one, or
  // was held while that one was answered. A client that waits for each
  // answer sends the next in a later read.
  const bool pipelined = requests_begun_ > 0 && (resuming_ || read_batch_ == last_begin_batch_);
  pipelined_run_ = pipelined ? pipelined_run_ + 1 : 0;
  last_begin_batch_ = read_batch_;
  ++requests_begun_;
  in_request_ = true;
  can_send_error_ = true;
  request_ = std::make_unique<RequestHeaders>();
  url_.clear();
  field_.clear();
  value_.clear();
  reading_value_ = false;
  host_seen_ = false;
  header_bytes_ = 0;
  header_count_ = 0;
  body_bytes_ = 0;
  decoder_ = nullptr;
  decoder_ended_ = false;
  return 0;
}

int ServerConnectionImpl::onUrl(const char* at, size_t length) {
  url_.append(at, length);
  if (url_.size() > static_cast<size_t>(settings_.max_request_headers_kb) * 1024) {
    return fail(414, "request target too long");
  }
  return 0;
}

int ServerConnectionImpl::onHeaderField(const char* at, size_t length) {
  if (reading_value_) {
    if (!commitHeader()) return -1;
    reading_value_ = false;
  }
  field_.append(at, length);
  header_bytes_ += length;
  if (header_bytes_ > static_cast<size_t>(settings_.max_request_headers_kb) * 1024) {
    return fail(431, "request header fields too large");
  }
  return 0;
}

int ServerConnectionImpl::onHeaderValue(const char* at, size_t length) {
  reading_value_ = true;
  value_.append(at, length);
  header_bytes_ += length;
  if (header_bytes_ > static_cast<size_t>(settings_.max_request_headers_kb) * 1024) {
    return fail(431, "request header fields too large");
  }
  return 0;
}

bool ServerConnectionImpl::commitHeader() {
  if (++header_count_ > settings_.max_headers_count) {
    fail(431, "too many request header fields");
    return false;
  }
  if (field_.empty()) {
    fail(400, "bad request: invalid header");
    return false;
  }
  // http-parser lets some non-token bytes through in field names.
  for (char& c : field_) {
    if (!isTokenChar(static_cast<unsigned char>(c))) {
      fail(400, "bad request: invalid header");
      return false;
    }
    c = toLower(c);
  }
  // Leading whitespace is skipped by the parser, trailing is not.
  while (!value_.empty() && (value_.back() == ' ' || value_.back() == '\t')) value_.pop_back();
  if (field_ == "host") {
    if (host_seen_) {
      fail(400, "bad request: multiple host headers");
      return false;
    }
    host_seen_ = true;
    request_->authority = std::move(value_);
  } else {
    request_->headers.add(std::move(field_), std::move(value_));
  }
  field_.clear();
  value_.clear();
  return true;
}

bool ServerConnectionImpl::processRequestTarget() {
  if (url_.empty()) {
    fail(400, "bad request: invalid request target");
    return false;
  }
  if (url_[0] == '/') {  // origin-form, by far the most common
    request_->path = std::move(url_);
  } else if (url_ == "*") {  // asterisk-form: only OPTIONS may use it
    if (parser_.method != HTTP_OPTIONS) {
      fail(400, "bad request: invalid request target");
      return false;
    }
    request_->path = std::move(url_);
  } else if (parser_.method == HTTP_CONNECT) {
    // authority-form; the layer above refuses CONNECT.
    request_->path = url_;
    if (!host_seen_) request_->authority = std::move(url_);
    return true;
  } else {
    // absolute-form (RFC 9112 3.2.2): its authority replaces Host, and the
    // layer above sees an origin-form path.
    http_parser_url parsed;
    http_parser_url_init(&parsed);
    if (http_parser_parse_url(url_.data(), url_.size(), 0, &parsed) != 0 ||
        (parsed.field_set & (1 << UF_SCHEMA)) == 0 || (parsed.field_set & (1 << UF_HOST)) == 0) {
      fail(400, "bad request: invalid request target");
      return false;
    }
    auto field = [&](int which) {
      return std::string_view(url_).substr(parsed.field_data[which].off,
                                           parsed.field_data[which].len);
    };
    std::string_view schema = field(UF_SCHEMA);
    if (!equalsIgnoreCase(schema, "http") && !equalsIgnoreCase(schema, "https")) {
      fail(400, "bad request: invalid request target");
      return false;
    }
    std::string authority(field(UF_HOST));
    if (url_.find('[') != std::string::npos) authority = "[" + authority + "]";
    if ((parsed.field_set & (1 << UF_PORT)) != 0) {
      authority.push_back(':');
      authority.append(field(UF_PORT));
    }
    request_->authority = std::move(authority);
    std::string path;
    if ((parsed.field_set & (1 << UF_PATH)) != 0) {
      path.assign(field(UF_PATH));
    } else {
      path = "/";
    }
    if ((parsed.field_set & (1 << UF_QUERY)) != 0) {
      path.push_back('?');
      path.append(field(UF_QUERY));
    }
    request_->path = std::move(path);
    return true;
  }
  // RFC 9112 3.2: an HTTP/1.1 request without Host is rejected.
  if (!host_seen_ && parser_.http_major == 1 && parser_.http_minor >= 1) {
    fail(400, "bad request: missing host header");
    return false;
  }
  return true;
}

bool ServerConnectionImpl::isH2cUpgrade(bool has_body) const {
  if (!settings_.allow_h2c_upgrade || active_ != nullptr || has_body) return false;
  if (parser_.method != HTTP_GET && parser_.method != HTTP_HEAD) return false;
  if (parser_.http_major != 1 || parser_.http_minor != 1) return false;
  const std::string* upgrade = request_->headers.get("upgrade");
  if (upgrade == nullptr || !hasToken(*upgrade, "h2c")) return false;
  bool has_settings = false;
  bool connection_upgrade = false;
  bool connection_settings = false;
  for (const HeaderMap::Entry& entry : request_->headers.entries()) {
    if (entry.name == "http2-settings") {
      if (has_settings) return false;  // RFC 7540 3.2.1: exactly one
      has_settings = true;
    } else if (entry.name == "connection") {
      connection_upgrade = connection_upgrade || hasToken(entry.value, "upgrade");
      connection_settings = connection_settings || hasToken(entry.value, "http2-settings");
    }
  }
  return has_settings && connection_upgrade && connection_settings;
}

int ServerConnectionImpl::onHeadersComplete() {
  if (reading_value_ || !field_.empty()) {
    if (!commitHeader()) return -1;
    reading_value_ = false;
  }
  if (!processRequestTarget()) return -1;
  const bool has_body = messageHasBody(parser_);
  const bool get_or_head = parser_.method == HTTP_GET || parser_.method == HTTP_HEAD;
  if (get_or_head && (has_body || request_->headers.get("transfer-encoding") != nullptr)) {
    // GOPROXY requests never have a body; one here is a client bug or a
    // smuggling attempt.
    return fail(400, "bad request: GET or HEAD request with a body");
  }
  if (parser_.content_length != ULLONG_MAX && settings_.max_request_body_bytes != 0 &&
      parser_.content_length > settings_.max_request_body_bytes) {
    return fail(413, "request body too large");
  }

  // The parser flags upgrades (and CONNECT) and would stop parsing after
  // them; only h2c is accepted, anything else is an ordinary request.
  if (parser_.upgrade != 0) {
    if (isH2cUpgrade(has_body)) {
      upgrade_pending_ = true;
      http2_settings_ = *request_->headers.get("http2-settings");
      return 0;
    }
    parser_.upgrade = 0;
  }

  request_->method = http_method_str(static_cast<http_method>(parser_.method));
  request_->scheme = "http";
  if (!http_should_keep_alive(&parser_)) wants_to_close_ = true;
  if (settings_.max_pipelined_requests != 0 && pipelined_run_ >= settings_.max_pipelined_requests) {
    // A pipelining flood: answer this one, then close.
    wants_to_close_ = true;
  }

  RequestFraming framing;
  framing.is_head = parser_.method == HTTP_HEAD;
  framing.http10 = parser_.http_major == 1 && parser_.http_minor == 0;
  framing.keep_alive = !wants_to_close_;
  active_ = std::make_unique<ResponseEncoderImpl>(*this, framing);
  RequestDecoder& decoder = callbacks_.newStream(*active_);
  // The stream may have been answered or reset in newStream() already.
  if (closed_) {
    http_parser_pause(&parser_, 1);
    return 0;
  }
  if (active_ == nullptr) return 0;
  decoder_ = &decoder;
  decoder_ended_ = !has_body;
  decoder_->decodeHeaders(std::move(request_), !has_body);
  if (closed_) http_parser_pause(&parser_, 1);
  return 0;
}

int ServerConnectionImpl::onBody(const char* at, size_t length) {
  body_bytes_ += length;
  if (settings_.max_request_body_bytes != 0 && body_bytes_ > settings_.max_request_body_bytes) {
    return fail(413, "request body too large");
  }
  // Bodies are rare and small here (the layer above refuses them), so a
  // copy out of the parse buffer is fine.
  if (decoder_ != nullptr) body_.add(at, length);
  return 0;
}

int ServerConnectionImpl::onMessageComplete() {
  in_request_ = false;
  if (upgrade_pending_) return 0;  // the parser returns right after this
  if (decoder_ != nullptr && !decoder_ended_) {
    decoder_ended_ = true;
    decoder_->decodeData(body_, true);
  }
  body_.drain(body_.length());
  // Return to processBuffered(), which holds the next request back while
  // this response is in progress, the connection is closing, or the client
  // is not reading.
  if (closed_ || active_ != nullptr || wants_to_close_ || above_high_watermark_) {
    http_parser_pause(&parser_, 1);
  }
  return 0;
}

// --- Errors and upgrades ----------------------------------------------------

ServerConnectionImpl::Progress ServerConnectionImpl::onParseError(http_errno error) {
  int status = error_status_;
  std::string reason = error_reason_;
  if (status == 0) {
    auto [mapped_status, mapped_reason] = describeParseError(error);
    status = mapped_status;
    reason.assign(mapped_reason.data(), mapped_reason.size());
  }
  error_reason_ = reason;
  failed_ = true;
  wants_to_close_ = true;
  buffered_.drain(buffered_.length());
  body_.drain(body_.length());
  decoder_ = nullptr;
  bool can_reply = can_send_error_;
  StreamCallbacks* stream_callbacks = nullptr;
  if (active_ != nullptr) {
    can_reply = can_reply && !active_->headersEncoded();
    stream_callbacks = retireActiveStream();
  }
  // The error response is queued before the stream hears of the reset: its
  // owner may close the connection (flushing) from onResetStream().
  if (can_reply) writeErrorResponse(status, reason);
  if (stream_callbacks != nullptr) {
    stream_callbacks->onResetStream(StreamResetReason::kProtocolError);
  }
  return Progress::kError;
}

void ServerConnectionImpl::writeErrorResponse(int status, std::string_view reason) {
  head_.clear();
  head_.append("HTTP/1.1 ");
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof(digits), status).ptr;
  head_.append(digits, end);
  head_.push_back(' ');
  head_.append(reasonPhrase(status));
  head_.append("\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ");
  end = std::to_chars(digits, digits + sizeof(digits), reason.size() + 1).ptr;
  head_.append(digits, end);
  head_.append("\r\nconnection: close\r\ndate: ");
  head_.append(cachedHttpDate());
  head_.append("\r\n\r\n");
  head_.append(reason);
  head_.push_back('\n');
  output_.add(head_);
  flushOutput();
}

ServerConnectionImpl::Progress ServerConnectionImpl::upgradeToH2c() {
  upgraded_ = true;
  upgrade_pending_ = false;
  // The h2c connection frames its own streams; these were for the hop.
  request_->headers.remove("upgrade");
  request_->headers.remove("connection");
  request_->headers.remove("http2-settings");
  request_->method = http_method_str(static_cast<http_method>(parser_.method));
  request_->scheme = "http";
  output_.add("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
  flushOutput();
  deferred_timer_->disableTimer();
  resume_pending_ = false;
  if (read_disabled_) {
    // Reading belongs to the HTTP/2 codec now.
    read_disabled_ = false;
    connection_.readDisable(false);
  }
  // Everything the callee gets lives on this frame, not in the codec, which
  // may be retired during the call.
  buffer::Buffer rest;
  rest.move(buffered_);
  std::unique_ptr<RequestHeaders> request = std::move(request_);
  std::string http2_settings = std::move(http2_settings_);
  ServerConnectionCallbacks& callbacks = callbacks_;
  callbacks.onUpgradeToH2c(std::move(request), std::move(http2_settings), rest);
  return Progress::kUpgraded;
}

// --- Deferred work ----------------------------------------------------------

void ServerConnectionImpl::scheduleDeferredWork(bool resume_parsing) {
  if (closed_ || upgraded_) return;
  resume_pending_ = resume_pending_ || resume_parsing;
  if (!deferred_timer_->enabled()) deferred_timer_->enableTimer(std::chrono::milliseconds(0));
}

void ServerConnectionImpl::onDeferredWork() {
  if (closed_ || upgraded_) return;
  flushOutput();
  if (!resume_pending_) return;
  resume_pending_ = false;
  if (dispatching_) return;  // cannot happen from a timer, but be safe
  resuming_ = true;
  const Progress progress = processBuffered();
  resuming_ = false;
  if (progress == Progress::kError) {
    // Nobody to return the error to: close after the error response.
    connection_.close(network::CloseType::kFlushWrite);
  }
}

void ServerConnectionImpl::flushOutput() {
  if (output_.length() == 0) return;
  connection_.write(output_);
}

// --- Stream life --------------------------------------------------------------

StreamCallbacks* ServerConnectionImpl::retireActiveStream() {
  StreamCallbacks* stream_callbacks = active_->detach();
  connection_.dispatcher().deferredDelete(std::move(active_));
  return stream_callbacks;
}

void ServerConnectionImpl::onResponseComplete(ResponseEncoderImpl& encoder) {
  if (active_.get() != &encoder) return;
  // The stream is finished: the rest of its request body, if any, is read
  // and dropped.
  retireActiveStream();
  decoder_ = nullptr;
  body_.drain(body_.length());
  if (!dispatching_ && buffered_.length() > 0 && !wants_to_close_) {
    // Not inside dispatch(): parse the held requests from the event loop
    // rather than from deep inside the producer's call stack.
    scheduleDeferredWork(true);
  }
}

void ServerConnectionImpl::onLocalReset(ResponseEncoderImpl& encoder) {
  if (active_.get() != &encoder) return;
  StreamCallbacks* stream_callbacks = retireActiveStream();
  decoder_ = nullptr;
  wants_to_close_ = true;
  closed_ = true;  // about to be; stops any parse loop on the stack
  buffered_.drain(buffered_.length());
  output_.drain(output_.length());
  deferred_timer_->disableTimer();
  network::Connection& connection = connection_;
  if (stream_callbacks != nullptr) stream_callbacks->onResetStream(StreamResetReason::kLocalReset);
  // HTTP/1.1 has no way to end a response early but closing the connection.
  connection.close(network::CloseType::kNoFlush);
}

void ServerConnectionImpl::onConnectionClosed() {
  closed_ = true;
  wants_to_close_ = true;
  deferred_timer_->disableTimer();
  resume_pending_ = false;
  buffered_.drain(buffered_.length());
  output_.drain(output_.length());
  decoder_ = nullptr;
  if (active_ != nullptr) {
    StreamCallbacks* stream_callbacks = retireActiveStream();
    if (stream_callbacks != nullptr) {
      stream_callbacks->onResetStream(StreamResetReason::kConnectionTermination);
    }
  }
}

void ServerConnectionImpl::shutdownNotice() {
  shutdown_notice_ = true;
  wants_to_close_ = true;
}

void ServerConnectionImpl::onUnderlyingConnectionAboveWriteBufferHighWatermark() {
  above_high_watermark_ = true;
  if (active_ != nullptr) active_->onAboveWriteBufferHighWatermark();
}

void ServerConnectionImpl::onUnderlyingConnectionBelowWriteBufferLowWatermark() {
  above_high_watermark_ = false;
  if (active_ != nullptr) active_->onBelowWriteBufferLowWatermark();
  if (active_ == nullptr && !dispatching_ && buffered_.length() > 0) scheduleDeferredWork(true);
}

}  // namespace modgate::http::http1
