#include "source/common/http/http1/response_encoder.h"

#include <charconv>

#include "source/common/http/http1/http_date.h"
#include "source/common/http/http1/reason_phrase.h"
#include "source/common/http/http1/server_connection.h"

namespace modgate::http::http1 {
namespace {

void appendNumber(std::string& out, uint64_t value) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
  out.append(digits, end);
}

bool hasCloseToken(std::string_view value) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.size() == 5 && (item[0] | 0x20) == 'c' && (item[1] | 0x20) == 'l' &&
        (item[2] | 0x20) == 'o' && (item[3] | 0x20) == 's' && (item[4] | 0x20) == 'e') {
      return true;
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

ResponseEncoderImpl::ResponseEncoderImpl(ServerConnectionImpl& parent,
                                         const RequestFraming& framing)
    : parent_(parent), framing_(framing) {}

void ResponseEncoderImpl::appendHead(const ResponseHeaders& headers, bool end_stream) {
  int status = headers.status;
  if (status < 100 || status > 999) status = 500;
  drop_body_ = framing_.is_head || status < 200 || status == 204 || status == 304;
  bool close = !framing_.keep_alive || parent_.shutdown_notice_;

  std::string& head = parent_.head_;
  head.clear();
  head.append("HTTP/1.1 ");
  appendNumber(head, static_cast<uint64_t>(status));
  head.push_back(' ');
  head.append(reasonPhrase(status));
  head.append("\r\n");
  bool has_content_length = false;
  bool has_date = false;
  headers.forEach([&](const HeaderMap::Entry& entry) {
    const std::string& name = entry.name;
    // Framing and connection management are this codec's business.
    if (name == "connection") {
      close = close || hasCloseToken(entry.value);
      return;
    }
    if (name == "transfer-encoding" || name == "keep-alive") return;
    if (name == "content-length") has_content_length = true;
    if (name == "date") has_date = true;
    head.append(name);
    head.append(": ");
    head.append(entry.value);
    head.append("\r\n");
  });
  if (!has_content_length && !drop_body_) {
    if (end_stream) {
      head.append("content-length: 0\r\n");
    } else if (framing_.http10) {
      // HTTP/1.0 has no chunked encoding: the close ends the body.
      close = true;
    } else {
      chunked_ = true;
      head.append("transfer-encoding: chunked\r\n");
    }
  }
  if (!has_date) {
    head.append("date: ");
    head.append(cachedHttpDate());
    head.append("\r\n");
  }
  if (close) {
    head.append("connection: close\r\n");
    parent_.wants_to_close_ = true;
  } else if (framing_.http10) {
    // An HTTP/1.0 client assumes close unless told otherwise.
    head.append("connection: keep-alive\r\n");
  }
  head.append("\r\n");
  parent_.output_.add(head);
  parent_.can_send_error_ = false;
}

void ResponseEncoderImpl::encodeHeaders(const ResponseHeaders& headers, bool end_stream) {
  if (state_ != State::kWaitingForHeaders) return;
  state_ = State::kEncodingBody;
  appendHead(headers, end_stream);
  if (end_stream) {
    parent_.flushOutput();
    onComplete();
  } else if (drop_body_) {
    // No body bytes will follow to share a write with: send now.
    parent_.flushOutput();
  } else {
    // Held for the first encodeData() so head and body leave in one write;
    // the timer sends it alone if the body is slow to come.
    parent_.scheduleDeferredWork(false);
  }
}

void ResponseEncoderImpl::encodeData(buffer::Buffer& data, bool end_stream) {
  if (state_ != State::kEncodingBody) {
    data.drain(data.length());
    return;
  }
  buffer::Buffer& output = parent_.output_;
  const size_t length = data.length();
  if (drop_body_) {
    data.drain(length);
  } else if (chunked_) {
    if (length > 0) {
      char size_line[24];
      char* p = std::to_chars(size_line, size_line + 20, length, 16).ptr;
      *p++ = '\r';
      *p++ = '\n';
      output.add(size_line, static_cast<size_t>(p - size_line));
      output.move(data);
      output.add(end_stream ? std::string_view("\r\n0\r\n\r\n") : std::string_view("\r\n"));
    } else if (end_stream) {
      output.add("0\r\n\r\n");
    }
  } else {
    output.move(data);
  }
  if (output.length() > 0) parent_.flushOutput();
  // Writing may have reached the watermark callbacks, which may reset us.
  if (end_stream && state_ == State::kEncodingBody) onComplete();
}

void ResponseEncoderImpl::onComplete() {
  state_ = State::kComplete;
  parent_.onResponseComplete(*this);
}

void ResponseEncoderImpl::resetStream() {
  if (state_ == State::kComplete || state_ == State::kDetached) return;
  parent_.onLocalReset(*this);
}

StreamCallbacks* ResponseEncoderImpl::detach() {
  const bool was_live = state_ == State::kWaitingForHeaders || state_ == State::kEncodingBody;
  state_ = State::kDetached;
  return was_live ? callbacks_ : nullptr;
}

void ResponseEncoderImpl::onAboveWriteBufferHighWatermark() {
  if (above_high_watermark_ || callbacks_ == nullptr) return;
  if (state_ != State::kWaitingForHeaders && state_ != State::kEncodingBody) return;
  above_high_watermark_ = true;
  callbacks_->onAboveWriteBufferHighWatermark();
}

void ResponseEncoderImpl::onBelowWriteBufferLowWatermark() {
  if (!above_high_watermark_ || callbacks_ == nullptr) return;
  if (state_ != State::kWaitingForHeaders && state_ != State::kEncodingBody) return;
  above_high_watermark_ = false;
  callbacks_->onBelowWriteBufferLowWatermark();
}

}  // namespace modgate::http::http1
