#include "source/common/http/http2/response_encoder.h"

#include "source/common/http/http2/server_connection.h"

namespace modgate::http::http2 {

ResponseEncoderImpl::ResponseEncoderImpl(ServerConnectionImpl& parent, int32_t stream_id)
    : parent_(parent), stream_id_(stream_id) {}

void ResponseEncoderImpl::encodeHeaders(const ResponseHeaders& headers, bool end_stream) {
  if (!attached() || headers_sent_ || closed_ || parent_.closed_) {
    // Too late: the stream is gone (the producer is told, or is about to be).
    if (end_stream && attached()) {
      local_end_ = true;
      parent_.maybeRetire(*this);
    }
    return;
  }
  headers_sent_ = true;
  // A HEAD response never has a body: END_STREAM goes out on HEADERS and
  // whatever the producer encodes later is dropped.
  const bool headers_only = end_stream || is_head_;
  if (end_stream) local_end_ = true;
  parent_.submitResponse(*this, headers, headers_only);
  parent_.maybeRetire(*this);
  parent_.flush();
}

void ResponseEncoderImpl::encodeData(buffer::Buffer& data, bool end_stream) {
  if (!attached() || !headers_sent_ || end_stream_submitted_ || closed_ || parent_.closed_) {
    data.drain(data.length());
    if (end_stream && attached()) {
      local_end_ = true;
      parent_.maybeRetire(*this);
    }
    return;
  }
  pending_.move(data);
  if (end_stream) local_end_ = true;
  checkHighWatermark();
  parent_.resumeData(*this);
  parent_.flush();
}

void ResponseEncoderImpl::encodeTrailers(const HeaderMap& trailers) {
  if (!attached() || !headers_sent_ || end_stream_submitted_ || closed_ || parent_.closed_) {
    if (attached()) {
      local_end_ = true;
      parent_.maybeRetire(*this);
    }
    return;
  }
  trailers_ = std::make_unique<HeaderMap>(trailers);
  local_end_ = true;
  parent_.resumeData(*this);
  parent_.flush();
}

void ResponseEncoderImpl::resetStream() {
  if (!attached()) return;
  app_reset_ = true;
  parent_.resetStream(*this, NGHTTP2_CANCEL);
  notifyReset(StreamResetReason::kLocalReset);
  parent_.maybeRetire(*this);
  parent_.flush();
}

void ResponseEncoderImpl::notifyReset(StreamResetReason reason) {
  if (!attached()) return;
  reset_notified_ = true;
  pending_.drain(pending_.length());
  if (stream_callbacks_ != nullptr) stream_callbacks_->onResetStream(reason);
}

void ResponseEncoderImpl::checkHighWatermark() {
  if (above_high_watermark_ || local_end_) return;
  if (pending_.length() > parent_.settings_.stream_write_buffer_high_watermark) {
    above_high_watermark_ = true;
    if (stream_callbacks_ != nullptr) stream_callbacks_->onAboveWriteBufferHighWatermark();
  }
}

}  // namespace modgate::http::http2
