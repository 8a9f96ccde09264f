#include "source/upstream/grpc_client_stream.h"

#include "absl/strings/str_cat.h"
#include "source/common/grpc/status.h"
#include "source/upstream/string_view_compat.h"

namespace modgate::upstream {

GrpcClientStream::GrpcClientStream(event::Dispatcher& dispatcher,
                                   std::unique_ptr<Http2ClientStream> stream,
                                   GrpcClientStreamCallbacks& callbacks, uint32_t max_message_bytes)
    : dispatcher_(dispatcher),
      stream_(std::move(stream)),
      callbacks_(callbacks),
      decoder_(max_message_bytes) {}

GrpcClientStream::~GrpcClientStream() {
  *alive_ = false;
  cancel();
}

void GrpcClientStream::start(const std::string& authority, const std::string& path) {
  if (stream_ == nullptr) return;
  extra_headers_.add("content-type", std::string(grpc::kContentType));
  // Tells proxies on the way that we understand trailers (gRPC requires it).
  extra_headers_.add("te", "trailers");
  extra_headers_.add("user-agent", "modgate-grpc/0.1");
  RequestHead head;
  head.method = "POST";
  head.target = path;
  head.authority = authority;
  head.extra_headers = &extra_headers_;
  head.streaming_body = true;
  stream_->sendRequest(head, *this);
}

bool GrpcClientStream::sendMessage(const google::protobuf::MessageLite& message) {
  if (stream_ == nullptr) return false;
  buffer::Buffer frame;
  grpc::encodeMessage(message, frame);
  stream_->sendData(frame, false);
  return true;
}

void GrpcClientStream::cancel() {
  if (stream_ == nullptr) return;
  std::unique_ptr<Http2ClientStream> stream = std::move(stream_);
  stream->resetStream();
  // We may be inside one of its callbacks.
  dispatcher_.deferredDelete(std::move(stream));
}

void GrpcClientStream::decodeHeaders(std::unique_ptr<http::ResponseHeaders> headers,
                                     bool end_stream) {
  if (headers->status != 200) {
    const std::string* grpc_status = headers->headers.get(std::string(grpc::kStatusHeader));
    if (grpc_status != nullptr) {
      finish(statusOf(headers->headers));
      return;
    }
    finish(absl::Status(grpc::statusCodeFromHttpStatus(headers->status),
                        absl::StrCat("HTTP ", headers->status, " from the gRPC server")));
    return;
  }
  const std::string* content_type = headers->headers.get("content-type");
  if (content_type == nullptr || !grpc::isGrpcContentType(*content_type)) {
    finish(absl::UnknownError(absl::StrCat("not a gRPC answer (content-type \"",
                                           content_type == nullptr ? "" : *content_type, "\")")));
    return;
  }
  // Trailers-only: the status is in the headers.
  if (end_stream) finish(statusOf(headers->headers));
}

void GrpcClientStream::decodeData(buffer::Buffer& data, bool end_stream) {
  std::vector<std::string> messages;
  absl::Status decoded = decoder_.decode(data, messages);
  std::weak_ptr<bool> alive = alive_;
  for (std::string& message : messages) {
    callbacks_.onReceiveMessage(std::move(message));
    if (alive.expired() || stream_ == nullptr) return;
  }
  if (!decoded.ok()) {
    finish(decoded);
    return;
  }
  if (!end_stream) return;
  if (!decoder_.atMessageBoundary()) {
    finish(absl::InternalError("the gRPC stream ended inside a message"));
    return;
  }
  if (trailers_ == nullptr) {
    finish(absl::InternalError("the gRPC stream ended without grpc-status"));
    return;
  }
  finish(statusOf(*trailers_));
}

void GrpcClientStream::decodeTrailers(std::unique_ptr<http::HeaderMap> trailers) {
  trailers_ = std::move(trailers);
}

void GrpcClientStream::onStreamFailure(FailureReason, std::string_view detail, bool) {
  finish(absl::UnavailableError(toAbsl(detail)));
}

void GrpcClientStream::finish(absl::Status status) {
  if (stream_ == nullptr) return;
  cancel();
  callbacks_.onRemoteClose(std::move(status));
}

absl::Status GrpcClientStream::statusOf(const http::HeaderMap& headers) {
  const std::string* code = headers.get(std::string(grpc::kStatusHeader));
  const std::string* message = headers.get(std::string(grpc::kMessageHeader));
  if (code == nullptr) return absl::InternalError("no grpc-status in the answer");
  return grpc::statusFromTrailers(*code, message == nullptr ? "" : *message);
}

}  // namespace modgate::upstream
