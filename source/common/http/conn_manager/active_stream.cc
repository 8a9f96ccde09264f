#include "source/common/http/conn_manager/active_stream.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "source/common/http/conn_manager/connection_manager.h"

namespace modgate::http {

ActiveStream::ActiveStream(ConnectionManager& parent, ResponseEncoder& encoder,
                           std::vector<StreamFilterPtr> filters)
    : parent_(parent), encoder_(encoder), filters_(std::move(filters)) {
  encoder_.setStreamCallbacks(*this);
  info_.remote_address = parent_.connection().remoteAddress();
  info_.protocol = encoder_.protocol();
  info_.sendfile = info_.protocol == Protocol::kHttp11 && parent_.connection().supportsSendfile();
  info_.start_time = parent_.dispatcher().now();
  info_.tls = parent_.connection().tlsInfo();
  info_.listener = parent_.listenerName();
  for (auto& filter : filters_) filter->setCallbacks(*this);
  protocol_counts_ = parent_.protocolCounts();
  if (protocol_counts_ != nullptr) {
    protocol_counts_->rq_total.fetch_add(1, std::memory_order_relaxed);
    protocol_counts_->rq_active.fetch_add(1, std::memory_order_relaxed);
  }
}

ActiveStream::~ActiveStream() {
  // The counts outlive the connection manager, which may go first.
  if (protocol_counts_ != nullptr)
    protocol_counts_->rq_active.fetch_sub(1, std::memory_order_relaxed);
}

namespace {

// A client's request id is echoed only if it is a plain token a log line
// and a header can carry as is.
bool usableRequestId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  }
  return true;
}

// 128 random bits as 32 hex digits. Per thread, so no lock: every stream of
// a worker runs on its thread. Spelled out rather than StrFormat'ed: this
// runs for every request (benchmark: warm h2c .info, where formatting cost
// about 1% of the CPU).
std::string generateRequestId() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string id(32, '0');
  for (size_t half = 0; half < 2; ++half) {
    uint64_t bits = random();
    for (size_t i = 16; i-- > 0; bits >>= 4) id[half * 16 + i] = kHexDigits[bits & 0xf];
  }
  return id;
}

}  // namespace

void ActiveStream::decodeHeaders(std::unique_ptr<RequestHeaders> headers, bool end_stream) {
  request_ = std::move(headers);
  info_.request = request_.get();
  const std::string* id = request_->headers.get("x-request-id");
  info_.request_id = id != nullptr && usableRequestId(*id) ? *id : generateRequestId();
  request_complete_ = end_stream;
  iterateFilters();
}

void ActiveStream::decodeData(buffer::Buffer& data, bool end_stream) {
  if (end_stream) request_complete_ = true;
  if ((state_ == State::kDecoding || state_ == State::kEncoding) && next_filter_ > 0) {
    filters_[next_filter_ - 1]->decodeData(data, end_stream);
  }
  data.drain(data.length());
}

void ActiveStream::iterateFilters() {
  while (state_ == State::kDecoding && next_filter_ < filters_.size()) {
    StreamFilter& filter = *filters_[next_filter_++];
    if (filter.decodeHeaders(*request_, request_complete_) == FilterHeadersStatus::kStopIteration) {
      return;
    }
  }
  if (state_ == State::kDecoding) {
    // No filter took the request: a configuration without a terminal filter.
    sendLocalReply(404, "no route for this request");
  }
}

void ActiveStream::continueDecoding() { iterateFilters(); }

event::Dispatcher& ActiveStream::dispatcher() { return parent_.dispatcher(); }

void ActiveStream::sendLocalReply(int status, std::string_view reason) {
  sendLocalReply(status, reason, HeaderMap());
}

void ActiveStream::sendLocalReply(int status, std::string_view reason, const HeaderMap& extra) {
  if (state_ == State::kComplete || state_ == State::kReset || headers_encoded_) return;
  ResponseHeaders headers;
  headers.status = status;
  for (const auto& entry : extra.entries()) headers.headers.add(entry.name, entry.value);
  std::string body = absl::StrCat(std::string(reason), "\n");
  headers.headers.add("content-type", "text/plain; charset=utf-8");
  headers.headers.add("content-length", std::to_string(body.size()));
  if (status == 405) headers.headers.add("allow", "GET, HEAD");
  encodeHeaders(headers, false);
  buffer::Buffer data;
  data.add(body);
  encodeData(data, true);
}

void ActiveStream::encodeHeaders(ResponseHeaders& headers, bool end_stream) {
  if (state_ == State::kComplete || state_ == State::kReset) return;
  state_ = State::kEncoding;
  headers_encoded_ = true;
  info_.response_code = headers.status;
  info_.first_byte_time = parent_.dispatcher().now();
  if (!info_.request_id.empty()) headers.headers.add("x-request-id", info_.request_id);
  encoder_.encodeHeaders(headers, end_stream);
  if (end_stream) complete();
}

void ActiveStream::encodeData(buffer::Buffer& data, bool end_stream) {
  if (state_ != State::kEncoding) {
    data.drain(data.length());
    return;
  }
  info_.bytes_sent += data.length();
  encoder_.encodeData(data, end_stream);
  if (end_stream) complete();
}

void ActiveStream::encodeTrailers(const HeaderMap& trailers) {
  if (state_ != State::kEncoding) return;
  encoder_.encodeTrailers(trailers);
  complete();
}

void ActiveStream::complete() {
  if (state_ == State::kComplete || state_ == State::kReset) return;
  state_ = State::kComplete;
  finish();
}

void ActiveStream::onResetStream(StreamResetReason) {
  if (state_ == State::kComplete || state_ == State::kReset) return;
  state_ = State::kReset;
  finish();
}

void ActiveStream::resetStream() {
  if (state_ == State::kComplete || state_ == State::kReset) return;
  encoder_.resetStream();
  // The codec may or may not call back onResetStream(); finish either way.
  onResetStream(StreamResetReason::kLocalReset);
}

void ActiveStream::resetFromConnection() {
  onResetStream(StreamResetReason::kConnectionTermination);
}

void ActiveStream::finish() {
  if (blocked_) {
    blocked_ = false;
    parent_.onStreamBlocked(false);
  }
  info_.end_time = parent_.dispatcher().now();
  info_.reset = state_ == State::kReset;
  for (auto& filter : filters_) filter->onDestroy();
  for (auto& filter : filters_) filter->onStreamComplete(info_);
  parent_.onStreamDone(*this);
}

void ActiveStream::onAboveWriteBufferHighWatermark() {
  if (!blocked_) {
    blocked_ = true;
    parent_.onStreamBlocked(true);
  }
  for (auto& filter : filters_) filter->onAboveWriteBufferHighWatermark();
}

void ActiveStream::onBelowWriteBufferLowWatermark() {
  if (blocked_) {
    blocked_ = false;
    parent_.onStreamBlocked(false);
  }
  for (auto& filter : filters_) filter->onBelowWriteBufferLowWatermark();
}

}  // namespace modgate::http
