#include "source/upstream/http2_client_connection.h"

#include <nghttp2/nghttp2.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "source/upstream/http2_client_stream.h"

namespace modgate::upstream {
namespace {

Http2ClientConnection* self(void* user_data) {
  return static_cast<Http2ClientConnection*>(user_data);
}

// Request headers the codec owns or that HTTP/2 forbids (RFC 9113 8.2.2).
bool reservedRequestHeader(std::string_view name) {
  return name.empty() || name.front() == ':' || name == "host" || name == "connection" ||
         name == "content-length" || name == "transfer-encoding" || name == "te" ||
         name == "upgrade" || name == "keep-alive" || name == "proxy-connection";
}

nghttp2_nv header(std::string_view name, std::string_view value) {
  // nghttp2 copies names and values at submit time (no NO_COPY flags).
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

Http2ClientConnection::Http2ClientConnection(network::ConnectionPtr connection, std::string scheme,
                                             std::chrono::milliseconds idle_timeout)
    : connection_(std::move(connection)),
      scheme_(std::move(scheme)),
      idle_timeout_(idle_timeout),
      id_(connection_->id()) {
  connection_->setCallbacks(*this);
  event::Dispatcher& dispatcher = connection_->dispatcher();
  flush_timer_ = dispatcher.createTimer([this] { flush(); });
  idle_timer_ = dispatcher.createTimer([this] { close(); });

  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_option* options = nullptr;
  int rv = nghttp2_session_callbacks_new(&callbacks);
  if (rv == 0) rv = nghttp2_option_new(&options);
  if (rv == 0) {
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &onBeginHeadersCb);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &onHeaderCb);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &onFrameRecvCb);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &onDataChunkRecvCb);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &onStreamCloseCb);
    nghttp2_session_callbacks_set_on_frame_not_send_callback(callbacks, &onFrameNotSendCb);
    // Windows are credited by hand: per stream as its decoder drains, for
    // the connection on arrival (see the class comment).
    nghttp2_option_set_no_auto_window_update(options, 1);
    nghttp2_option_set_peer_max_concurrent_streams(options, kAssumedMaxConcurrentStreams);
    rv = nghttp2_session_client_new2(&session_, callbacks, this, options);
  }
  if (options != nullptr) nghttp2_option_del(options);
  if (callbacks != nullptr) nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) {
    session_ = nullptr;
    shutdown(FailureReason::kProtocolError, "cannot create HTTP/2 session");
    return;
  }
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
  // The preface goes out now, ahead of any request.
  flush();
  checkIdle();
}

Http2ClientConnection::~Http2ClientConnection() {
  // Silent: whoever destroys us (the pool, on its own destruction) has no
  // requests left to tell.
  for (Http2ClientStream* stream : attached_) {
    stream->connection_ = nullptr;
    stream->stream_id_ = -1;
  }
  attached_.clear();
  if (connection_->isOpen()) {
    closed_ = true;
    connection_->close(network::CloseType::kNoFlush);
  }
  if (session_ != nullptr) nghttp2_session_del(session_);
}

bool Http2ClientConnection::acceptsStreams() const {
  if (closed_ || goaway_received_ || session_ == nullptr) return false;
  if (!nghttp2_session_check_request_allowed(session_)) return false;
  // Before the origin's SETTINGS this is kAssumedMaxConcurrentStreams.
  const uint32_t limit =
      nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return activeStreams() < limit;
}

std::unique_ptr<Http2ClientStream> Http2ClientConnection::newStream() {
  auto stream = std::make_unique<Http2ClientStream>(*this, connection_->dispatcher());
  attached_.insert(stream.get());
  ++reserved_;
  checkIdle();
  return stream;
}

void Http2ClientConnection::close() {
  if (closed_) return;
  if (session_ != nullptr) {
    nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
    flush();
  }
  shutdown(FailureReason::kReset, "upstream HTTP/2 connection closed");
}

size_t Http2ClientConnection::bufferedBodyBytes() const {
  size_t total = 0;
  for (const Http2ClientStream* stream : attached_) total += stream->bufferedBytes();
  return total;
}

void Http2ClientConnection::submit(Http2ClientStream& stream, const RequestHead& head) {
  stream.submitted_ = true;
  if (reserved_ > 0) --reserved_;
  std::vector<nghttp2_nv> nva;
  nva.push_back(header(":method", head.method));
  nva.push_back(header(":scheme", scheme_));
  nva.push_back(header(":authority", head.authority));
  nva.push_back(header(":path", head.target));
  bool user_agent = false;
  bool accept_encoding = false;
  if (head.extra_headers != nullptr) {
    for (const auto& entry : head.extra_headers->entries()) {
      // "te: trailers" is the one te HTTP/2 allows (RFC 9113 8.2.2).
      if (reservedRequestHeader(entry.name) && !(entry.name == "te" && entry.value == "trailers")) {
        continue;
      }
      user_agent |= entry.name == "user-agent";
      accept_encoding |= entry.name == "accept-encoding";
      nva.push_back(header(entry.name, entry.value));
    }
  }
  if (!user_agent) nva.push_back(header("user-agent", "modgate/0.1"));
  // Bodies are stored and served as the origin's bytes: never ask for gzip.
  if (!accept_encoding) nva.push_back(header("accept-encoding", "identity"));

  // No body: HEADERS carries END_STREAM. A streaming body is read from the
  // stream's queue as the caller fills it.
  nghttp2_data_provider body;
  body.source.ptr = &stream;
  body.read_callback = &onDataSourceReadCb;
  int32_t id = closed_ ? NGHTTP2_ERR_START_STREAM_NOT_ALLOWED
                       : nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                                head.streaming_body ? &body : nullptr, nullptr);
  if (id < 0) {
    // Stream ids ran out or the connection is going away: nothing was sent.
    stream.setFailure(FailureReason::kReset,
                      absl::StrCat("cannot start HTTP/2 stream: ", nghttp2_strerror(id)), true);
    checkIdle();
    return;
  }
  stream.stream_id_ = id;
  streams_[id] = &stream;
  checkIdle();
  scheduleFlush();
}

void Http2ClientConnection::detach(Http2ClientStream& stream) {
  attached_.erase(&stream);
  if (stream.stream_id_ > 0) {
    auto it = streams_.find(stream.stream_id_);
    if (it != streams_.end()) {
      // Still open: tell the origin to stop. The entry stays until nghttp2
      // closes the stream, since it still counts against the origin's limit.
      it->second = nullptr;
      if (!closed_) {
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.stream_id_, NGHTTP2_CANCEL);
        scheduleFlush();
      }
    }
  } else if (!stream.submitted_ && reserved_ > 0) {
    // Reserved and never sent.
    --reserved_;
  }
  stream.stream_id_ = -1;
  checkIdle();
}

void Http2ClientConnection::consume(int32_t stream_id, size_t bytes) {
  if (closed_) return;
  nghttp2_session_consume_stream(session_, stream_id, bytes);
  scheduleFlush();
}

void Http2ClientConnection::resumeData(int32_t stream_id) {
  if (closed_) return;
  nghttp2_session_resume_data(session_, stream_id);
  scheduleFlush();
}

ssize_t Http2ClientConnection::onDataSourceReadCb(nghttp2_session*, int32_t stream_id, uint8_t* buf,
                                                  size_t length, uint32_t* data_flags,
                                                  nghttp2_data_source*, void* user_data) {
  // Looked up by id rather than through source.ptr: a detached stream's
  // handle may be gone while nghttp2 still asks (it is being reset).
  Http2ClientStream* stream = self(user_data)->find(stream_id);
  if (stream == nullptr) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return 0;
  }
  bool eof = false;
  ssize_t n = stream->readRequestBody(buf, length, &eof);
  if (eof) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return n;
}

void Http2ClientConnection::scheduleFlush() {
  if (closed_) return;
  if (dispatch_depth_ > 0) {
    flush_pending_ = true;
    return;
  }
  if (!flush_timer_->enabled()) flush_timer_->enableTimer(std::chrono::milliseconds(0));
}

void Http2ClientConnection::onData(buffer::Buffer& data) {
  // Owning the bytes keeps them valid even if a callback closes the
  // connection (which frees the transport's input buffer).
  buffer::Buffer input;
  input.move(data);
  if (closed_) return;
  ++dispatch_depth_;
  while (input.length() > 0 && !closed_) {
    iovec vec;
    input.peek(&vec, 1, input.length());
    ssize_t rv =
        nghttp2_session_mem_recv(session_, static_cast<const uint8_t*>(vec.iov_base), vec.iov_len);
    if (rv < 0) {
      // nghttp2 queued a GOAWAY saying why; send it on the way out.
      --dispatch_depth_;
      flush();
      shutdown(FailureReason::kProtocolError,
               absl::StrCat("bad HTTP/2 from upstream: ", nghttp2_strerror(static_cast<int>(rv))));
      return;
    }
    input.drain(vec.iov_len);
  }
  deliverAll();
  --dispatch_depth_;
  flush_pending_ = false;
  flush();
}

void Http2ClientConnection::onEvent(network::ConnectionEvent event) {
  if (event == network::ConnectionEvent::kConnected) return;
  std::string why = goaway_received_ ? "upstream HTTP/2 connection closed after GOAWAY"
                                     : "upstream HTTP/2 connection closed";
  if (std::string detail = connection_->closeDetail(); !detail.empty()) {
    absl::StrAppend(&why, " (", detail, ")");
  }
  shutdown(FailureReason::kReset, why);
}

Http2ClientStream* Http2ClientConnection::find(int32_t stream_id) const {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second;
}

void Http2ClientConnection::deliverAll() {
  // Decoders may detach streams (or end requests that hold them) as we go.
  std::vector<Http2ClientStream*> snapshot(attached_.begin(), attached_.end());
  for (Http2ClientStream* stream : snapshot) {
    if (attached_.contains(stream)) stream->deliver();
  }
}

void Http2ClientConnection::flush() {
  flush_timer_->disableTimer();
  if (closed_ || session_ == nullptr || !connection_->isOpen()) return;
  buffer::Buffer out;
  for (;;) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      shutdown(FailureReason::kProtocolError,
               absl::StrCat("HTTP/2 session error: ", nghttp2_strerror(static_cast<int>(n))));
      return;
    }
    if (n == 0) break;
    out.add(data, static_cast<size_t>(n));
  }
  if (out.length() > 0) connection_->write(out);
  checkIdle();
}

void Http2ClientConnection::checkIdle() {
  if (closed_) return;
  if (activeStreams() > 0) {
    idle_timer_->disableTimer();
    return;
  }
  if (goaway_received_ || (session_ != nullptr && !nghttp2_session_want_read(session_) &&
                           !nghttp2_session_want_write(session_))) {
    // Nothing more can happen on this connection.
    shutdown(FailureReason::kReset, "upstream HTTP/2 connection finished");
    return;
  }
  if (!idle_timer_->enabled()) idle_timer_->enableTimer(idle_timeout_);
}

void Http2ClientConnection::shutdown(FailureReason reason, std::string detail) {
  if (closed_) return;
  closed_ = true;
  flush_timer_->disableTimer();
  idle_timer_->disableTimer();
  // Queued output (a GOAWAY) still goes out.
  connection_->close(network::CloseType::kFlushWrite);
  if (slot_ != nullptr) slot_->release();
  std::vector<Http2ClientStream*> streams(attached_.begin(), attached_.end());
  attached_.clear();
  streams_.clear();
  reserved_ = 0;
  // Failures are delivered from each stream's own timer, never inside the
  // caller (which may be the pool).
  for (Http2ClientStream* stream : streams) stream->onConnectionGone(reason, detail);
  if (close_cb_) {
    auto cb = std::move(close_cb_);
    close_cb_ = nullptr;
    cb();
  }
}

int Http2ClientConnection::onBeginHeadersCb(nghttp2_session*, const nghttp2_frame* frame,
                                            void* user_data) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  Http2ClientStream* stream = self(user_data)->find(frame->hd.stream_id);
  if (stream != nullptr) stream->onBeginHeaders();
  return 0;
}

int Http2ClientConnection::onHeaderCb(nghttp2_session*, const nghttp2_frame* frame,
                                      const uint8_t* name, size_t name_length, const uint8_t* value,
                                      size_t value_length, uint8_t, void* user_data) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  Http2ClientStream* stream = self(user_data)->find(frame->hd.stream_id);
  if (stream == nullptr) return 0;
  if (!stream->onHeader(std::string_view(reinterpret_cast<const char*>(name), name_length),
                        std::string_view(reinterpret_cast<const char*>(value), value_length))) {
    // nghttp2 resets the stream; onClosed() then reports kOverflow.
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return 0;
}

int Http2ClientConnection::onFrameRecvCb(nghttp2_session*, const nghttp2_frame* frame,
                                         void* user_data) {
  Http2ClientConnection& c = *self(user_data);
  const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS: {
      Http2ClientStream* stream = c.find(frame->hd.stream_id);
      if (stream != nullptr) stream->onHeadersEnd(end_stream);
      break;
    }
    case NGHTTP2_DATA: {
      Http2ClientStream* stream = c.find(frame->hd.stream_id);
      if (stream != nullptr && end_stream) stream->onRemoteEnd();
      break;
    }
    case NGHTTP2_RST_STREAM: {
      // The origin's reset, whatever its code, is a reset (kReset); the
      // codes nghttp2 itself resets with are mapped in onClosed().
      Http2ClientStream* stream = c.find(frame->hd.stream_id);
      if (stream != nullptr) stream->onRemoteReset(frame->rst_stream.error_code);
      break;
    }
    case NGHTTP2_GOAWAY:
      // nghttp2 closes our streams above last_stream_id with
      // REFUSED_STREAM; the others may still finish.
      c.goaway_received_ = true;
      break;
    default:
      break;
  }
  return 0;
}

int Http2ClientConnection::onDataChunkRecvCb(nghttp2_session* session, uint8_t, int32_t stream_id,
                                             const uint8_t* data, size_t length, void* user_data) {
  // The connection window never waits for a reader.
  nghttp2_session_consume_connection(session, length);
  Http2ClientStream* stream = self(user_data)->find(stream_id);
  if (stream == nullptr) {
    // Nobody reads this stream any more (it is being reset).
    nghttp2_session_consume_stream(session, stream_id, length);
    return 0;
  }
  stream->onBody(data, length);
  return 0;
}

int Http2ClientConnection::onStreamCloseCb(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                                           void* user_data) {
  Http2ClientConnection& c = *self(user_data);
  auto it = c.streams_.find(stream_id);
  if (it == c.streams_.end()) return 0;
  Http2ClientStream* stream = it->second;
  c.streams_.erase(it);
  if (stream != nullptr) stream->onClosed(error_code);
  return 0;
}

int Http2ClientConnection::onFrameNotSendCb(nghttp2_session*, const nghttp2_frame* frame,
                                            int lib_error_code, void* user_data) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  // A request that never left (the origin sent GOAWAY first): refused.
  Http2ClientConnection& c = *self(user_data);
  auto it = c.streams_.find(frame->hd.stream_id);
  if (it == c.streams_.end()) return 0;
  Http2ClientStream* stream = it->second;
  c.streams_.erase(it);
  if (stream != nullptr) {
    stream->stream_id_ = -1;
    stream->setFailure(FailureReason::kReset,
                       absl::StrCat("HTTP/2 request not sent: ", nghttp2_strerror(lib_error_code)),
                       true);
  }
  return 0;
}

}  // namespace modgate::upstream
