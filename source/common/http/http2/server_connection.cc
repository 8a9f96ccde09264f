#include "source/common/http/http2/server_connection.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/container/fixed_array.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "source/common/http/http1/http_date.h"
#include "source/common/http/http2/session_memory.h"

namespace modgate::http::http2 {
namespace {

// Opaque data of the PING that follows a shutdown notice.
constexpr uint8_t kDrainPing[8] = {'m', 'g', '-', 'd', 'r', 'a', 'i', 'n'};
// iovecs fed to nghttp2 per peek of the input buffer.
constexpr int kMaxInputSlices = 16;
// A request body still to come after a complete response is read and
// dropped, rather than reset, when it declared at most this much left.
constexpr uint64_t kSmallRequestRemainder = 16 * 1024;
// Bound on flush rounds caused by producers answering watermark callbacks.
constexpr int kMaxFlushRounds = 64;
constexpr size_t kFrameHeaderLength = 9;

// A response's fields for nghttp2, sized once for all of them: a .info
// answer has ten, so they sit on the stack, and each append is a store
// (an InlinedVector's push_back was a call per field, ~1.4% of a warm
// h2c .info request).
class NvArray {
 public:
  explicit NvArray(size_t capacity) : slots_(capacity) {}
  void push_back(const nghttp2_nv& nv) { slots_[size_++] = nv; }
  nghttp2_nv* data() { return slots_.data(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  absl::FixedArray<nghttp2_nv, 16> slots_;
  size_t size_ = 0;
};

bool isConnectionSpecific(std::string_view name) {
  // By length first: every response field is checked.
  switch (name.size()) {
    case 2:
      return name == "te";
    case 7:
      return name == "upgrade";
    case 10:
      return name == "connection" || name == "keep-alive";
    case 16:
      return name == "proxy-connection";
    case 17:
      return name == "transfer-encoding";
    default:
      return false;
  }
}

std::string lowerCase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool isLowerCase(std::string_view text) {
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') return false;
  }
  return true;
}

// Response fields whose value differs on (nearly) every response. nghttp2
// adds a field to the HPACK dynamic table unless told otherwise (it already
// skips content-length and etag); indexing these would cost a table insert
// per response and push the fields that do repeat (content-type,
// cache-control, x-cache, date) out of the 4 KiB table, so those would be
// Huffman-coded and inserted again too (benchmark: warm h2c .info, where the
// deflater was ~14% of the CPU). Sent as literals that are never indexed,
// the one non-indexing choice nghttp2 offers (clients such as nghttp show
// them as "sensitive"; an intermediary must not index them either, which
// suits values that never repeat).
bool changesPerResponse(std::string_view name) {
  return name == "x-request-id" || name == "last-modified";
}

nghttp2_nv makeNv(std::string_view name, std::string_view value, uint8_t flags) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), flags};
}

// Appends a field as an nghttp2 name/value pair pointing into `entry`,
// unless it is a pseudo-header or connection-specific. nghttp2 copies it on
// submit, unless `in_place`: then `entry` outlives the HEADERS frame and
// nghttp2 reads it where it lies. Names are lower-case by HeaderMap's
// contract; one that is not is lower-cased into `lowered` (room reserved for
// `count` fields, so earlier names do not move), which must outlive `nva`.
// Returns whether it was a "date" field.
bool appendField(const HeaderMap::Entry& entry, bool in_place, size_t count, NvArray& nva,
                 std::vector<std::string>& lowered) {
  std::string_view name = entry.name;
  uint8_t flags = NGHTTP2_NV_FLAG_NONE;
  if (!isLowerCase(name)) {
    if (lowered.capacity() == 0) lowered.reserve(count);
    lowered.push_back(lowerCase(name));
    name = lowered.back();
  } else if (in_place) {
    flags |= NGHTTP2_NV_FLAG_NO_COPY_NAME;
  }
  if (name.empty() || name[0] == ':' || isConnectionSpecific(name)) return false;
  if (in_place) flags |= NGHTTP2_NV_FLAG_NO_COPY_VALUE;
  if (changesPerResponse(name)) flags |= NGHTTP2_NV_FLAG_NO_INDEX;
  nva.push_back(makeNv(name, entry.value, flags));
  return name == "date";
}

ServerConnectionImpl* self(void* user_data) {
  return static_cast<ServerConnectionImpl*>(user_data);
}

}  // namespace

ServerConnectionImpl::ServerConnectionImpl(network::Connection& connection,
                                           ServerConnectionCallbacks& callbacks,
                                           const CodecSettings& settings, UpgradeTag)
    : connection_(connection),
      callbacks_(callbacks),
      settings_(settings),
      reset_tokens_(settings.http2_stream_reset_burst),
      reset_tokens_at_(std::chrono::steady_clock::now()) {}

ServerConnectionImpl::ServerConnectionImpl(network::Connection& connection,
                                           ServerConnectionCallbacks& callbacks,
                                           const CodecSettings& settings)
    : ServerConnectionImpl(connection, callbacks, settings, UpgradeTag{}) {
  if (!initSession(false, {}, false)) {
    failed_ = true;
    failure_ = "http2: cannot create the session";
    return;
  }
  flush();
}

ServerConnectionImpl::~ServerConnectionImpl() {
  if (session_ != nullptr) nghttp2_session_del(session_);
}

std::unique_ptr<ServerConnectionImpl> ServerConnectionImpl::createUpgraded(
    network::Connection& connection, ServerConnectionCallbacks& callbacks,
    const CodecSettings& settings, std::string_view http2_settings_base64url,
    std::unique_ptr<RequestHeaders> request) {
  if (request == nullptr) return nullptr;
  std::string payload;
  // base64url; the padding is optional.
  if (!absl::WebSafeBase64Unescape(
          absl::string_view(http2_settings_base64url.data(), http2_settings_base64url.size()),
          &payload)) {
    return nullptr;
  }
  // A settings payload is a sequence of 6-byte entries.
  if (payload.size() % 6 != 0) return nullptr;
  const bool head = request->method == "HEAD";
  std::unique_ptr<ServerConnectionImpl> codec(
      new ServerConnectionImpl(connection, callbacks, settings, UpgradeTag{}));
  if (!codec->initSession(true, payload, head)) return nullptr;

  // Stream 1 carries the upgraded request; its request side is complete.
  auto stream = std::make_unique<ResponseEncoderImpl>(*codec, 1);
  ResponseEncoderImpl& raw = *stream;
  raw.remote_end_ = true;
  request->headers.remove("connection");
  request->headers.remove("upgrade");
  request->headers.remove("http2-settings");
  raw.request_ = std::move(request);
  codec->streams_.emplace(1, std::move(stream));
  codec->open_streams_++;

  // Batch whatever the layer above answers right away with the SETTINGS.
  codec->session_depth_++;
  codec->startRequest(raw, true);
  codec->session_depth_--;
  codec->flush();
  return codec;
}

bool ServerConnectionImpl::initSession(bool upgrade, std::string_view settings_payload,
                                       bool head_request) {
  nghttp2_session_callbacks* callbacks;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) return false;
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &onBeginHeadersCb);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &onHeaderCb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &onFrameRecvCb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &onDataChunkRecvCb);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &onFrameSendCb);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &onStreamCloseCb);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(callbacks, &onInvalidFrameRecvCb);
  nghttp2_session_callbacks_set_send_data_callback(callbacks, &sendDataCb);
  nghttp2_session_callbacks_set_data_source_read_length_callback(callbacks, &dataFrameLengthCb);

  nghttp2_option* options;
  if (nghttp2_option_new(&options) != 0) {
    nghttp2_session_callbacks_del(callbacks);
    return false;
  }
  // Received DATA is consumed as soon as it is read (request bodies are
  // small and limited), so nghttp2 may send WINDOW_UPDATEs by itself.
  nghttp2_option_set_no_auto_window_update(options, 0);
  // Abuse limits (limits.http2), explicit rather than left to the library
  // version's defaults. Each one makes nghttp2 end the connection with
  // GOAWAY (ENHANCE_YOUR_CALM or PROTOCOL_ERROR) instead of doing unbounded
  // work:
  // - rapid reset (CVE-2023-44487): a token bucket of client resets;
  // - CONTINUATION floods (CVE-2024-27316 family): CONTINUATION frames per
  //   header block (the header list size cap bounds bytes);
  // - SETTINGS and PING floods: entries per SETTINGS frame, and ACKs
  //   queued for a client that does not read them (beyond what the
  //   connection's write buffer holds: the codec stops pulling frames from
  //   nghttp2 above its high watermark, so they queue in nghttp2).
  nghttp2_option_set_stream_reset_rate_limit(options, settings_.http2_stream_reset_burst,
                                             settings_.http2_stream_resets_per_second);
  nghttp2_option_set_max_continuations(options, settings_.http2_max_continuation_frames);
  nghttp2_option_set_max_settings(options, settings_.http2_max_settings_entries);
  nghttp2_option_set_max_outbound_ack(options, settings_.http2_max_outbound_control_frames);

  int rv = nghttp2_session_server_new3(&session_, callbacks, this, options, SessionMemory::get());
  nghttp2_option_del(options);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) {
    session_ = nullptr;
    return false;
  }

  if (upgrade) {
    rv = nghttp2_session_upgrade2(session_,
                                  reinterpret_cast<const uint8_t*>(settings_payload.data()),
                                  settings_payload.size(), head_request ? 1 : 0, nullptr);
    if (rv != 0) return false;
  }

  const nghttp2_settings_entry entries[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings_.initial_stream_window_size},
      // Advisory: the real limit is enforced per request in onHeader().
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       settings_.max_request_headers_kb * 1024 + 32 * (settings_.max_headers_count + 4)},
  };
  rv = nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, entries,
                               sizeof(entries) / sizeof(entries[0]));
  if (rv != 0) return false;
  if (settings_.initial_connection_window_size > NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE) {
    rv = nghttp2_session_set_local_window_size(
        session_, NGHTTP2_FLAG_NONE, 0,
        static_cast<int32_t>(
            std::min<uint32_t>(settings_.initial_connection_window_size, NGHTTP2_MAX_WINDOW_SIZE)));
    if (rv != 0) return false;
  }
  return true;
}

// --- ServerConnection ----------------------------------------------------------

absl::Status ServerConnectionImpl::dispatch(buffer::Buffer& data) {
  if (closed_ || failed_ || session_ == nullptr) {
    data.drain(data.length());
    if (failed_) return absl::InvalidArgumentError(failure_);
    return absl::OkStatus();
  }
  iovec slices[kMaxInputSlices];
  while (data.length() > 0 && !failed_ && !closed_) {
    const int count = std::min(data.peek(slices, kMaxInputSlices, data.length()), kMaxInputSlices);
    if (count <= 0) break;
    size_t consumed = 0;
    for (int i = 0; i < count && !failed_ && !closed_; ++i) {
      session_depth_++;
      const ssize_t rv = nghttp2_session_mem_recv(
          session_, static_cast<const uint8_t*>(slices[i].iov_base), slices[i].iov_len);
      session_depth_--;
      if (rv < 0) {
        // A flood nghttp2 cut off (ACKs the client does not read, an endless
        // header block) is abuse, not a malformed frame: say so, as Envoy does.
        const bool flood = rv == NGHTTP2_ERR_FLOODED || rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS;
        fail(flood ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR,
             absl::StrCat("http2: ", nghttp2_strerror(static_cast<int>(rv))));
        break;
      }
      consumed += static_cast<size_t>(rv);
    }
    if (failed_ || closed_) {
      data.drain(data.length());
      break;
    }
    data.drain(consumed);
  }
  flush();
  if (failed_) return absl::InvalidArgumentError(failure_);
  if (goaway_error_sent_ != NGHTTP2_NO_ERROR) {
    // nghttp2 found a connection error and sent GOAWAY itself.
    failed_ = true;
    failure_ = absl::StrCat("http2: connection error ", nghttp2_http2_strerror(goaway_error_sent_));
    return absl::InvalidArgumentError(failure_);
  }
  return absl::OkStatus();
}

void ServerConnectionImpl::shutdownNotice() {
  if (closed_ || failed_ || draining_ || session_ == nullptr) return;
  draining_ = true;
  nghttp2_submit_shutdown_notice(session_);
  nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, kDrainPing);
  flush();
}

bool ServerConnectionImpl::wantsToClose() const {
  if (failed_ || closed_ || session_ == nullptr) return true;
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

void ServerConnectionImpl::onUnderlyingConnectionAboveWriteBufferHighWatermark() {
  output_blocked_ = true;
}

void ServerConnectionImpl::onUnderlyingConnectionBelowWriteBufferLowWatermark() {
  if (!output_blocked_) return;
  output_blocked_ = false;
  flush();
}

void ServerConnectionImpl::onConnectionClosed() {
  if (closed_) return;
  closed_ = true;
  output_.drain(output_.length());
  std::vector<int32_t> ids;
  for (const auto& [id, stream] : streams_) {
    if (stream->attached()) ids.push_back(id);
  }
  // In stream order, whatever order the hash map keeps.
  std::sort(ids.begin(), ids.end());
  // A callback may reset or finish other streams: look each one up again.
  for (int32_t id : ids) {
    ResponseEncoderImpl* stream = findStream(id);
    if (stream != nullptr) stream->notifyReset(StreamResetReason::kConnectionTermination);
  }
}

// --- Output ----------------------------------------------------------------------

void ServerConnectionImpl::flush() {
  if (session_depth_ > 0 || flushing_) {
    flush_pending_ = true;
    return;
  }
  if (closed_ || session_ == nullptr) return;
  flushing_ = true;
  for (int round = 0; round < kMaxFlushRounds && !closed_; ++round) {
    flush_pending_ = false;
    if (!output_blocked_) {
      session_depth_++;
      for (;;) {
        const uint8_t* bytes = nullptr;
        const ssize_t n = nghttp2_session_mem_send(session_, &bytes);
        if (n < 0) {
          fail(NGHTTP2_INTERNAL_ERROR,
               absl::StrCat("http2: ", nghttp2_strerror(static_cast<int>(n))));
          break;
        }
        if (n == 0) break;
        output_.add(bytes, static_cast<size_t>(n));
      }
      session_depth_--;
    }
    // Producers resumed by a watermark run with nghttp2 off the stack.
    if (!below_watermark_.empty()) {
      std::vector<int32_t> ids;
      ids.swap(below_watermark_);
      for (int32_t id : ids) {
        ResponseEncoderImpl* stream = findStream(id);
        if (stream != nullptr && stream->attached() && !stream->above_high_watermark_ &&
            stream->stream_callbacks_ != nullptr) {
          stream->stream_callbacks_->onBelowWriteBufferLowWatermark();
        }
      }
    }
    if (!flush_pending_ || output_blocked_) break;
  }
  flushing_ = false;
  if (output_.length() == 0) return;
  if (closed_ || !connection_.isOpen()) {
    output_.drain(output_.length());
    return;
  }
  connection_.write(output_);
}

void ServerConnectionImpl::fail(uint32_t error_code, std::string reason) {
  if (failed_) return;
  failed_ = true;
  failure_ = std::move(reason);
  if (session_ != nullptr) nghttp2_session_terminate_session(session_, error_code);
}

void ServerConnectionImpl::maybeSendFinalGoaway() {
  if (!draining_ || !drain_ping_acked_ || final_goaway_submitted_ || open_streams_ > 0) return;
  if (closed_ || session_ == nullptr) return;
  final_goaway_submitted_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  flush();
}

void ServerConnectionImpl::maybeRetire(ResponseEncoderImpl& stream) {
  if (!stream.closed_ || stream.attached()) return;
  if (decoding_ == &stream) decoding_ = nullptr;
  auto it = streams_.find(stream.stream_id_);
  if (it == streams_.end()) return;
  std::unique_ptr<ResponseEncoderImpl> owned = std::move(it->second);
  streams_.erase(it);
  connection_.dispatcher().deferredDelete(std::move(owned));
}

ResponseEncoderImpl* ServerConnectionImpl::findStream(int32_t stream_id) {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.get();
}

// --- Requests --------------------------------------------------------------------

void ServerConnectionImpl::startRequest(ResponseEncoderImpl& stream, bool end_stream) {
  RequestHeaders& request = *stream.request_;
  if (request.authority.empty()) request.authority = std::move(stream.host_);
  stream.is_head_ = request.method == "HEAD";
  if (const std::string* length = request.headers.get("content-length"); length != nullptr) {
    uint64_t declared;
    if (absl::SimpleAtoi(*length, &declared)) stream.declared_body_bytes_ = declared;
  }
  stream.decoder_ = &callbacks_.newStream(stream);
  if (!stream.attached()) return;
  stream.decoder_->decodeHeaders(std::move(stream.request_), end_stream);
}

void ServerConnectionImpl::rejectRequest(ResponseEncoderImpl& stream, int status) {
  // The layer above never sees this stream.
  stream.local_end_ = true;
  stream.headers_sent_ = true;
  ResponseHeaders headers;
  headers.status = status;
  headers.headers.add("content-length", "0");
  // If the client is still sending, onFrameSend() follows up with
  // RST_STREAM(NO_ERROR) once the response is out.
  submitResponse(stream, headers, true);
}

int ServerConnectionImpl::onBeginHeaders(const nghttp2_frame& frame) {
  if (frame.hd.type != NGHTTP2_HEADERS || frame.headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  const int32_t id = frame.hd.stream_id;
  auto [it, inserted] = streams_.try_emplace(id);
  if (!inserted) return 0;
  it->second = std::make_unique<ResponseEncoderImpl>(*this, id);
  decoding_ = it->second.get();
  open_streams_++;
  return 0;
}

int ServerConnectionImpl::onHeader(const nghttp2_frame& frame, std::string_view name,
                                   std::string_view value) {
  if (frame.hd.type != NGHTTP2_HEADERS || frame.headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0;  // trailers are ignored
  }
  ResponseEncoderImpl* stream = decoding_ != nullptr && decoding_->stream_id_ == frame.hd.stream_id
                                    ? decoding_
                                    : findStream(frame.hd.stream_id);
  if (stream == nullptr || stream->reject_status_ != 0 || stream->request_ == nullptr) return 0;
  const bool pseudo = !name.empty() && name[0] == ':';
  stream->header_bytes_ += name.size() + value.size();
  if (!pseudo) stream->header_count_++;
  if (stream->header_bytes_ > static_cast<size_t>(settings_.max_request_headers_kb) * 1024 ||
      stream->header_count_ > settings_.max_headers_count) {
    stream->reject_status_ = 431;
    stream->request_->headers = HeaderMap();
    return 0;
  }
  RequestHeaders& request = *stream->request_;
  if (pseudo) {
    if (name == ":method") {
      request.method = std::string(value);
    } else if (name == ":path") {
      request.path = std::string(value);
    } else if (name == ":authority") {
      request.authority = std::string(value);
    } else if (name == ":scheme") {
      request.scheme = std::string(value);
    }
    return 0;
  }
  std::string lowered = lowerCase(name);
  if (lowered == "host") {
    stream->host_ = std::string(value);
    return 0;
  }
  if (lowered == "cookie") {
    // HTTP/2 may split cookies into several fields (RFC 9113 8.2.3).
    const std::string* existing = request.headers.get("cookie");
    if (existing != nullptr) {
      std::string joined = *existing + "; " + std::string(value);
      request.headers.set("cookie", std::move(joined));
      return 0;
    }
  }
  request.headers.add(std::move(lowered), std::string(value));
  return 0;
}

int ServerConnectionImpl::onFrameRecv(const nghttp2_frame& frame) {
  switch (frame.hd.type) {
    case NGHTTP2_HEADERS: {
      ResponseEncoderImpl* stream = findStream(frame.hd.stream_id);
      if (stream == nullptr) return 0;
      const bool end_stream = (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
      if (end_stream) stream->remote_end_ = true;
      if (frame.headers.cat == NGHTTP2_HCAT_REQUEST) {
        if (stream->reject_status_ != 0) {
          rejectRequest(*stream, stream->reject_status_);
        } else {
          startRequest(*stream, end_stream);
        }
      } else if (end_stream && stream->attached() && stream->decoder_ != nullptr) {
        // Trailers end the request.
        buffer::Buffer empty;
        stream->decoder_->decodeData(empty, true);
      }
      return 0;
    }
    case NGHTTP2_DATA: {
      ResponseEncoderImpl* stream = findStream(frame.hd.stream_id);
      if (stream == nullptr) return 0;
      const bool end_stream = (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
      if (end_stream) stream->remote_end_ = true;
      if (stream->attached() && stream->decoder_ != nullptr) {
        if (stream->body_.length() > 0 || end_stream) {
          stream->decoder_->decodeData(stream->body_, end_stream);
        }
      }
      stream->body_.drain(stream->body_.length());
      return 0;
    }
    case NGHTTP2_RST_STREAM: {
      ResponseEncoderImpl* stream = findStream(frame.hd.stream_id);
      if (stream != nullptr) stream->remote_reset_ = true;
      return 0;
    }
    case NGHTTP2_PING:
      if ((frame.hd.flags & NGHTTP2_FLAG_ACK) != 0 && draining_ &&
          memcmp(frame.ping.opaque_data, kDrainPing, sizeof(kDrainPing)) == 0) {
        drain_ping_acked_ = true;
        maybeSendFinalGoaway();
      }
      return 0;
    default:
      return 0;
  }
}

int ServerConnectionImpl::onDataChunkRecv(int32_t stream_id, const uint8_t* data, size_t length) {
  ResponseEncoderImpl* stream = findStream(stream_id);
  if (stream == nullptr || !stream->attached()) return 0;
  stream->body_bytes_ += length;
  if (settings_.max_request_body_bytes != 0 &&
      stream->body_bytes_ > settings_.max_request_body_bytes) {
    stream->body_.drain(stream->body_.length());
    if (!stream->headers_sent_) {
      stream->headers_sent_ = true;
      ResponseHeaders headers;
      headers.status = 413;
      headers.headers.add("content-length", "0");
      // onFrameSend() follows up with RST_STREAM(NO_ERROR).
      submitResponse(*stream, headers, true);
    } else {
      resetStream(*stream, NGHTTP2_CANCEL);
    }
    stream->notifyReset(StreamResetReason::kLocalReset);
    return 0;
  }
  stream->body_.add(data, length);
  return 0;
}

// --- Responses -------------------------------------------------------------------

void ServerConnectionImpl::submitResponse(ResponseEncoderImpl& stream,
                                          const ResponseHeaders& headers, bool end_stream) {
  // Everything points into `headers` or the locals below; nghttp2 copies it
  // on submit, except what is said to stay (NO_COPY flags).
  const size_t count = headers.headers.size() + (headers.shared ? headers.shared->size() : 0);
  NvArray nva(count + 2);  // and :status, date
  std::vector<std::string> lowered;
  // Three digits (RFC 9110 15); anything else is the layer above's bug,
  // passed on as is.
  char status_digits[3];
  std::string status_text;
  std::string_view status;
  if (headers.status >= 100 && headers.status <= 999) {
    status_digits[0] = static_cast<char>('0' + headers.status / 100);
    status_digits[1] = static_cast<char>('0' + headers.status / 10 % 10);
    status_digits[2] = static_cast<char>('0' + headers.status % 10);
    status = std::string_view(status_digits, sizeof(status_digits));
  } else {
    status_text = std::to_string(headers.status);
    status = status_text;
  }
  // Literal names stay; values are copied.
  nva.push_back(makeNv(":status", status, NGHTTP2_NV_FLAG_NO_COPY_NAME));
  bool has_date = false;
  if (headers.shared != nullptr) {
    // The stream keeps the shared fields until it is destroyed, which is
    // after nghttp2 packed its HEADERS, or dropped them unread with the
    // closed stream: nghttp2 may read them in place instead of copying
    // (and lower-casing) each name and value, as it must for the rest.
    stream.shared_response_fields_ = headers.shared;
    for (const HeaderMap::Entry& entry : headers.shared->entries()) {
      has_date = appendField(entry, true, count, nva, lowered) || has_date;
    }
  }
  for (const HeaderMap::Entry& entry : headers.headers.entries()) {
    has_date = appendField(entry, false, count, nva, lowered) || has_date;
  }
  if (!has_date) {
    // The cached date lives until the next second's refresh on this thread,
    // which cannot happen before nghttp2 copies it.
    nva.push_back(makeNv("date", http1::cachedHttpDate(), NGHTTP2_NV_FLAG_NO_COPY_NAME));
  }

  int rv;
  if (end_stream) {
    stream.end_stream_submitted_ = true;
    rv = nghttp2_submit_response(session_, stream.stream_id_, nva.data(), nva.size(), nullptr);
  } else {
    nghttp2_data_provider provider;
    provider.source.ptr = &stream;
    provider.read_callback = &readDataCb;
    stream.has_data_provider_ = true;
    rv = nghttp2_submit_response(session_, stream.stream_id_, nva.data(), nva.size(), &provider);
  }
  if (rv != 0) {
    // The stream is gone from nghttp2's view (closed meanwhile).
    stream.has_data_provider_ = false;
    stream.notifyReset(StreamResetReason::kLocalReset);
  }
}

bool ServerConnectionImpl::submitTrailers(ResponseEncoderImpl& stream) {
  std::unique_ptr<HeaderMap> trailers = std::move(stream.trailers_);
  NvArray nva(trailers->size());
  std::vector<std::string> lowered;
  for (const HeaderMap::Entry& entry : trailers->entries()) {
    appendField(entry, false, trailers->size(), nva, lowered);
  }
  if (nva.empty()) return false;  // nothing to send: END_STREAM on the data
  return nghttp2_submit_trailer(session_, stream.stream_id_, nva.data(), nva.size()) == 0;
}

void ServerConnectionImpl::resumeData(ResponseEncoderImpl& stream) {
  if (!stream.has_data_provider_ || !stream.data_deferred_ || stream.closed_) return;
  stream.data_deferred_ = false;
  nghttp2_session_resume_data(session_, stream.stream_id_);
}

void ServerConnectionImpl::resetStream(ResponseEncoderImpl& stream, uint32_t error_code) {
  if (stream.closed_ || session_ == nullptr) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.stream_id_, error_code);
}

ssize_t ServerConnectionImpl::readData(int32_t stream_id, size_t length, uint32_t* data_flags) {
  ResponseEncoderImpl* stream = findStream(stream_id);
  if (stream == nullptr || stream->reset_notified_) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  const size_t available = stream->pending_.length();
  const size_t n = std::min(length, available);
  if (n == 0 && !stream->local_end_) {
    stream->data_deferred_ = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  *data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (stream->local_end_ && n == available) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    stream->end_stream_submitted_ = true;
    // nghttp2 allows submitting trailers from this callback; END_STREAM
    // then goes on them instead of the last DATA frame.
    if (stream->trailers_ != nullptr && submitTrailers(*stream)) {
      *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
  }
  return static_cast<ssize_t>(n);
}

int ServerConnectionImpl::sendData(nghttp2_frame& frame, const uint8_t* framehd, size_t length) {
  ResponseEncoderImpl* stream = findStream(frame.hd.stream_id);
  if (stream == nullptr || stream->pending_.length() < length) return NGHTTP2_ERR_CALLBACK_FAILURE;
  const size_t padlen = frame.data.padlen;
  if (padlen == 0) {
    // Header and payload in one contiguous block: over TLS the frame is then
    // encrypted as one record where it lies (see dataFrameLength()). A move
    // would not save the copy: libevent copies a partly moved slice anyway,
    // and a body slice is bigger than a frame.
    output_.addInPlace(kFrameHeaderLength + length, [&](uint8_t* block, size_t) {
      memcpy(block, framehd, kFrameHeaderLength);
      stream->pending_.copyOut(block + kFrameHeaderLength, length);
      return kFrameHeaderLength + length;
    });
    stream->pending_.drain(length);
  } else {
    output_.add(framehd, kFrameHeaderLength);
    const uint8_t pad_length = static_cast<uint8_t>(padlen - 1);
    output_.add(&pad_length, 1);
    output_.move(stream->pending_, length);
    static const uint8_t kZeros[256] = {};
    output_.add(kZeros, padlen - 1);
  }
  if (stream->above_high_watermark_ &&
      stream->pending_.length() <= settings_.stream_write_buffer_high_watermark / 2) {
    stream->above_high_watermark_ = false;
    below_watermark_.push_back(stream->stream_id_);
  }
  return 0;
}

ssize_t ServerConnectionImpl::dataFrameLength(uint32_t remote_max_frame_size) {
  // A DATA frame with its header fills one TLS record exactly (16 KiB of
  // plaintext), so the TLS layer encrypts each frame where it lies instead
  // of splitting it or gathering it into a staging record. Without TLS the
  // 9 bytes less per frame cost nothing. nghttp2 then clamps the length to
  // the flow control windows.
  constexpr size_t kRecordSizedPayload = 16 * 1024 - kFrameHeaderLength;
  return static_cast<ssize_t>(std::min<size_t>(kRecordSizedPayload, remote_max_frame_size));
}

int ServerConnectionImpl::onFrameSend(const nghttp2_frame& frame) {
  if ((frame.hd.type == NGHTTP2_HEADERS || frame.hd.type == NGHTTP2_DATA) &&
      (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
    ResponseEncoderImpl* stream = findStream(frame.hd.stream_id);
    // The response is complete but the client is still sending: ask it to
    // stop without error (RFC 9113 8.1). Unless what is left is small and
    // declared: then the rest is read and dropped, because some clients
    // (curl 7.88) report an early RST_STREAM as a failed request even with a
    // complete response in hand, and a small remainder costs nothing.
    if (stream != nullptr && !stream->remote_end_ && !stream->closed_ &&
        !smallRemainderDeclared(*stream)) {
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, frame.hd.stream_id, NGHTTP2_NO_ERROR);
    }
  } else if (frame.hd.type == NGHTTP2_GOAWAY && frame.goaway.error_code != NGHTTP2_NO_ERROR) {
    goaway_error_sent_ = frame.goaway.error_code;
  }
  return 0;
}

bool ServerConnectionImpl::smallRemainderDeclared(const ResponseEncoderImpl& stream) const {
  // Within what the stream's window already lets the client send, so no
  // WINDOW_UPDATE is owed for a body nobody reads.
  const uint64_t small =
      std::min<uint64_t>(kSmallRequestRemainder, settings_.initial_stream_window_size);
  return stream.declared_body_bytes_.has_value() &&
         stream.body_bytes_ <= *stream.declared_body_bytes_ &&
         *stream.declared_body_bytes_ - stream.body_bytes_ <= small;
}

int ServerConnectionImpl::onStreamClose(int32_t stream_id, uint32_t error_code) {
  ResponseEncoderImpl* stream = findStream(stream_id);
  if (stream == nullptr) return 0;
  stream->closed_ = true;
  if (open_streams_ > 0) open_streams_--;
  if (error_code != NGHTTP2_NO_ERROR && !stream->app_reset_) countProvokedReset(*stream);
  stream->pending_.drain(stream->pending_.length());
  if (stream->attached()) {
    if (stream->decoder_ == nullptr) {
      // Never surfaced (refused or reset before its headers completed).
      stream->reset_notified_ = true;
    } else if (stream->end_stream_submitted_ && !stream->remote_reset_ &&
               error_code == NGHTTP2_NO_ERROR) {
      // A HEAD response went out complete while its producer still runs:
      // keep the encoder until it says end_stream.
    } else {
      StreamResetReason reason = StreamResetReason::kRemoteReset;
      if (!stream->remote_reset_ && error_code != NGHTTP2_NO_ERROR &&
          error_code != NGHTTP2_CANCEL) {
        reason = StreamResetReason::kProtocolError;
      }
      stream->notifyReset(reason);
    }
  }
  maybeRetire(*stream);
  maybeSendFinalGoaway();
  return 0;
}

int ServerConnectionImpl::onInvalidFrameRecv(const nghttp2_frame& frame) {
  if (frame.hd.stream_id == 0) return 0;
  ResponseEncoderImpl* stream = findStream(frame.hd.stream_id);
  if (stream != nullptr && !stream->closed_) countProvokedReset(*stream);
  return 0;
}

void ServerConnectionImpl::countProvokedReset(ResponseEncoderImpl& stream) {
  if (stream.reset_counted_) return;
  stream.reset_counted_ = true;
  if (!takeResetToken()) {
    fail(NGHTTP2_ENHANCE_YOUR_CALM,
         "http2: too many streams reset (limits.http2.stream_reset_burst)");
  }
}

bool ServerConnectionImpl::takeResetToken() {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - reset_tokens_at_).count();
  reset_tokens_at_ = now;
  reset_tokens_ =
      std::min<double>(settings_.http2_stream_reset_burst,
                       reset_tokens_ + elapsed * settings_.http2_stream_resets_per_second);
  if (reset_tokens_ < 1) return false;
  reset_tokens_ -= 1;
  return true;
}

// --- nghttp2 trampolines -----------------------------------------------------------

int ServerConnectionImpl::onBeginHeadersCb(nghttp2_session*, const nghttp2_frame* frame,
                                           void* user_data) {
  return self(user_data)->onBeginHeaders(*frame);
}

int ServerConnectionImpl::onHeaderCb(nghttp2_session*, const nghttp2_frame* frame,
                                     const uint8_t* name, size_t name_length, const uint8_t* value,
                                     size_t value_length, uint8_t, void* user_data) {
  return self(user_data)->onHeader(
      *frame, std::string_view(reinterpret_cast<const char*>(name), name_length),
      std::string_view(reinterpret_cast<const char*>(value), value_length));
}

int ServerConnectionImpl::onFrameRecvCb(nghttp2_session*, const nghttp2_frame* frame,
                                        void* user_data) {
  return self(user_data)->onFrameRecv(*frame);
}

int ServerConnectionImpl::onDataChunkRecvCb(nghttp2_session*, uint8_t, int32_t stream_id,
                                            const uint8_t* data, size_t length, void* user_data) {
  return self(user_data)->onDataChunkRecv(stream_id, data, length);
}

int ServerConnectionImpl::onFrameSendCb(nghttp2_session*, const nghttp2_frame* frame,
                                        void* user_data) {
  return self(user_data)->onFrameSend(*frame);
}

int ServerConnectionImpl::onInvalidFrameRecvCb(nghttp2_session*, const nghttp2_frame* frame, int,
                                               void* user_data) {
  return self(user_data)->onInvalidFrameRecv(*frame);
}

int ServerConnectionImpl::onStreamCloseCb(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                                          void* user_data) {
  return self(user_data)->onStreamClose(stream_id, error_code);
}

int ServerConnectionImpl::sendDataCb(nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd,
                                     size_t length, nghttp2_data_source*, void* user_data) {
  return self(user_data)->sendData(*frame, framehd, length);
}

ssize_t ServerConnectionImpl::dataFrameLengthCb(nghttp2_session*, uint8_t, int32_t, int32_t,
                                                int32_t, uint32_t remote_max_frame_size, void*) {
  return dataFrameLength(remote_max_frame_size);
}

ssize_t ServerConnectionImpl::readDataCb(nghttp2_session*, int32_t stream_id, uint8_t*,
                                         size_t length, uint32_t* data_flags, nghttp2_data_source*,
                                         void* user_data) {
  return self(user_data)->readData(stream_id, length, data_flags);
}

}  // namespace modgate::http::http2
