#include "source/common/grpc/server_filter.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "source/common/grpc/status.h"

namespace modgate::grpc {

http::FilterHeadersStatus ServerFilter::decodeHeaders(http::RequestHeaders& headers,
                                                      bool end_stream) {
  headers_ = &headers;
  if (headers.method != "POST") {
    state_ = State::kFinished;
    callbacks_->sendLocalReply(405, "gRPC calls are POST requests");
    return http::FilterHeadersStatus::kStopIteration;
  }
  const std::string* content_type = headers.headers.get("content-type");
  if (content_type == nullptr || !isGrpcContentType(*content_type)) {
    state_ = State::kFinished;
    callbacks_->sendLocalReply(415,
                               "this is a gRPC endpoint: content-type must be application/grpc");
    return http::FilterHeadersStatus::kStopIteration;
  }
  if (callbacks_->streamInfo().protocol != http::Protocol::kHttp2) {
    state_ = State::kFinished;
    callbacks_->sendLocalReply(505, "gRPC needs HTTP/2 (prior knowledge or h2c)");
    return http::FilterHeadersStatus::kStopIteration;
  }
  const std::string_view path = std::string_view(headers.path).substr(0, headers.path.find('?'));
  const MethodHandlerFactory* factory = services_.find(path);
  if (factory == nullptr) {
    finish(absl::UnimplementedError("unknown method " + std::string(path)));
    return http::FilterHeadersStatus::kStopIteration;
  }
  handler_ = (*factory)(*this);
  if (end_stream && open()) handler_->onRemoteClose(*this);
  return http::FilterHeadersStatus::kStopIteration;
}

void ServerFilter::decodeData(buffer::Buffer& data, bool end_stream) {
  if (!open() || handler_ == nullptr) {
    data.drain(data.length());
    return;
  }
  std::vector<std::string> messages;
  const absl::Status status = decoder_.decode(data, messages);
  // Messages before a framing error are still the client's requests.
  for (std::string& message : messages) {
    if (!open()) return;
    handler_->onMessage(std::move(message));
  }
  if (!open()) return;
  if (!status.ok()) {
    finish(status);
    if (handler_ != nullptr) handler_->onStreamGone();
    return;
  }
  if (end_stream) {
    if (!decoder_.atMessageBoundary()) {
      finish(absl::InternalError("the request ended inside a gRPC message"));
      handler_->onStreamGone();
      return;
    }
    handler_->onRemoteClose(*this);
  }
}

void ServerFilter::onDestroy() {
  if (state_ != State::kOpen) return;
  state_ = State::kGone;
  if (handler_ != nullptr) handler_->onStreamGone();
}

const std::string& ServerFilter::remoteAddress() const {
  return callbacks_->streamInfo().remote_address;
}

void ServerFilter::sendResponseHeaders() {
  http::ResponseHeaders headers;
  headers.status = 200;
  headers.headers.add("content-type", std::string(kContentType));
  headers_sent_ = true;
  callbacks_->encodeHeaders(headers, false);
}

void ServerFilter::sendMessage(const google::protobuf::MessageLite& message) {
  if (!open()) return;
  if (!headers_sent_) sendResponseHeaders();
  if (!open()) return;  // the client went away meanwhile
  buffer::Buffer frame;
  encodeMessage(message, frame);
  callbacks_->encodeData(frame, false);
}

void ServerFilter::finish(const absl::Status& status) {
  if (!open()) return;
  state_ = State::kFinished;
  http::HeaderMap trailers;
  trailers.add(std::string(kStatusHeader), std::to_string(static_cast<int>(status.code())));
  if (!status.ok()) {
    trailers.add(
        std::string(kMessageHeader),
        percentEncodeMessage(std::string_view(status.message().data(), status.message().size())));
  }
  if (!headers_sent_) {
    // Trailers-only: one HEADERS frame with :status, content-type and the
    // status, END_STREAM.
    http::ResponseHeaders headers;
    headers.status = 200;
    headers.headers.add("content-type", std::string(kContentType));
    for (const http::HeaderMap::Entry& entry : trailers.entries()) {
      headers.headers.add(entry.name, entry.value);
    }
    headers_sent_ = true;
    callbacks_->encodeHeaders(headers, true);
    return;
  }
  callbacks_->encodeTrailers(trailers);
}

}  // namespace modgate::grpc
