#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "source/common/event/dispatcher.h"
#include "source/common/http/header_map.h"

namespace google::protobuf {
class MessageLite;
}

namespace modgate::grpc {

// The server side of one gRPC call, as its method handler sees it. Every
// call is treated as bidirectionally streaming (unary is the special case of
// one message each way). Valid until the handler is destroyed; after the
// stream is gone (finished, or the client went away) calls do nothing.
class ServerStream {
 public:
  virtual ~ServerStream() = default;
  // Frames and sends one response message now (the response headers go out
  // with the first).
  virtual void sendMessage(const google::protobuf::MessageLite& message) = 0;
  // Ends the call: trailers grpc-status and, unless OK, grpc-message
  // (percent-encoded). Before any message this is a trailers-only response.
  virtual void finish(const absl::Status& status) = 0;
  // False once finished or reset.
  virtual bool open() const = 0;
  virtual const http::RequestHeaders& requestHeaders() const = 0;
  // "ip:port" of the client.
  virtual const std::string& remoteAddress() const = 0;
  virtual event::Dispatcher& dispatcher() = 0;
};

// A method's logic for one call; created per call by the method's factory.
class ServerStreamHandler {
 public:
  virtual ~ServerStreamHandler() = default;
  // One complete request message (serialized). The handler parses it; an
  // unparsable message is its own INVALID_ARGUMENT to finish() with.
  virtual void onMessage(std::string message) = 0;
  // The client half-closed its side; the default ends the call OK.
  virtual void onRemoteClose(ServerStream& stream) { stream.finish(absl::OkStatus()); }
  // The call ended without the handler's finish() (client reset, connection
  // closed, framing error): release what it holds. The stream is no longer
  // open.
  virtual void onStreamGone() {}
};
using ServerStreamHandlerPtr = std::unique_ptr<ServerStreamHandler>;

using MethodHandlerFactory = std::function<ServerStreamHandlerPtr(ServerStream& stream)>;

}  // namespace modgate::grpc
