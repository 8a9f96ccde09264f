#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "source/common/grpc/framing.h"
#include "source/upstream/client_connection.h"
#include "source/upstream/http2_client_stream.h"

namespace google::protobuf {
class MessageLite;
}

namespace modgate::upstream {

class GrpcClientStreamCallbacks {
 public:
  virtual ~GrpcClientStreamCallbacks() = default;
  // One received message, serialized.
  virtual void onReceiveMessage(std::string message) = 0;
  // The stream is over: the server's grpc-status (OK when it ended the
  // call cleanly), or UNAVAILABLE/INTERNAL/... for a transport failure or a
  // non-gRPC answer. No more calls follow; the callee may destroy the
  // stream from here.
  virtual void onRemoteClose(absl::Status status) = 0;
};

// A gRPC bidirectional-streaming call on one stream of an
// Http2ClientConnection (grpc/grpc doc/PROTOCOL-HTTP2.md): POST with
// content-type application/grpc and te: trailers, length-prefixed messages
// both ways (source/common/grpc/framing.h), the call's status from the
// grpc-status/grpc-message trailers (or the headers, for a trailers-only
// answer, or the HTTP status when a non-gRPC server answered).
class GrpcClientStream : public event::DeferredDeletable, private ResponseDecoder {
 public:
  GrpcClientStream(event::Dispatcher& dispatcher, std::unique_ptr<Http2ClientStream> stream,
                   GrpcClientStreamCallbacks& callbacks,
                   uint32_t max_message_bytes = grpc::kDefaultMaxMessageBytes);
  ~GrpcClientStream() override;

  // Sends the request headers: `path` is "/<package>.<Service>/<Method>".
  void start(const std::string& authority, const std::string& path);
  // Frames and queues one message; false once the stream is closed.
  bool sendMessage(const google::protobuf::MessageLite& message);
  // Ends the call from our side: RST_STREAM(CANCEL), no more callbacks.
  void cancel();
  bool open() const { return stream_ != nullptr; }

 private:
  // ResponseDecoder
  void decodeHeaders(std::unique_ptr<http::ResponseHeaders> headers, bool end_stream) override;
  void decodeData(buffer::Buffer& data, bool end_stream) override;
  void decodeTrailers(std::unique_ptr<http::HeaderMap> trailers) override;
  void onStreamFailure(FailureReason reason, std::string_view detail,
                       bool response_started) override;

  // Reports `status` once and lets go of the HTTP/2 stream.
  void finish(absl::Status status);
  // The call's status from grpc-status in `headers` (trailers, or the
  // headers of a trailers-only answer).
  static absl::Status statusOf(const http::HeaderMap& headers);

  event::Dispatcher& dispatcher_;
  std::unique_ptr<Http2ClientStream> stream_;
  GrpcClientStreamCallbacks& callbacks_;
  grpc::FrameDecoder decoder_;
  http::HeaderMap extra_headers_;
  std::unique_ptr<http::HeaderMap> trailers_;
  // Cleared on destruction, so a loop delivering messages can tell that a
  // callback destroyed us.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace modgate::upstream
