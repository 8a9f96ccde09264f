#include "source/common/http/conn_manager/active_stream.h"

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
  for (auto& filter : filters_) filter->setCallbacks(*this);
}

ActiveStream::~ActiveStream() = default;

void ActiveStream::decodeHeaders(std::unique_ptr<RequestHeaders> headers, bool end_stream) {
  request_ = std::move(headers);
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
  if (state_ == State::kComplete || state_ == State::kReset || headers_encoded_) return;
  ResponseHeaders headers;
  headers.status = status;
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
  for (auto& filter : filters_) filter->onDestroy();
  for (auto& filter : filters_) filter->onStreamComplete(info_);
  parent_.onStreamDone(*this);
}

void ActiveStream::onAboveWriteBufferHighWatermark() {
  for (auto& filter : filters_) filter->onAboveWriteBufferHighWatermark();
}

void ActiveStream::onBelowWriteBufferLowWatermark() {
  for (auto& filter : filters_) filter->onBelowWriteBufferLowWatermark();
}

}  // namespace modgate::http
