#pragma once

#include <string>

#include "source/common/grpc/framing.h"
#include "source/common/grpc/server_stream.h"
#include "source/common/grpc/service_table.h"
#include "source/common/http/filter.h"

namespace modgate::grpc {

// gRPC over modgate's HTTP/2 stack (grpc/grpc doc/PROTOCOL-HTTP2.md), as the
// terminal filter of a gRPC listener:
//  * POST with content-type application/grpc[+...] over HTTP/2; other
//    methods get 405, other content types 415, HTTP/1.1 505, each with a
//    plain-text reason (no gRPC client sends those, so no gRPC status);
//  * an unknown path: trailers-only UNIMPLEMENTED;
//  * request DATA is decoded into messages as it arrives and handed to the
//    handler while its responses go out: full bidirectional streaming;
//  * the handler's finish() sends grpc-status/grpc-message trailers, or a
//    trailers-only response if no message went out.
class ServerFilter : public http::StreamFilter, public ServerStream {
 public:
  explicit ServerFilter(const ServiceTable& services)
      : services_(services), decoder_(services.maxMessageBytes()) {}

  // http::StreamFilter
  void setCallbacks(http::StreamFilterCallbacks& callbacks) override { callbacks_ = &callbacks; }
  http::FilterHeadersStatus decodeHeaders(http::RequestHeaders& headers, bool end_stream) override;
  void decodeData(buffer::Buffer& data, bool end_stream) override;
  void onDestroy() override;

  // ServerStream
  void sendMessage(const google::protobuf::MessageLite& message) override;
  void finish(const absl::Status& status) override;
  bool open() const override { return state_ == State::kOpen; }
  const http::RequestHeaders& requestHeaders() const override { return *headers_; }
  const std::string& remoteAddress() const override;
  event::Dispatcher& dispatcher() override { return callbacks_->dispatcher(); }

 private:
  enum class State { kOpen, kFinished, kGone };
  void sendResponseHeaders();

  const ServiceTable& services_;
  http::StreamFilterCallbacks* callbacks_ = nullptr;
  const http::RequestHeaders* headers_ = nullptr;
  FrameDecoder decoder_;
  // Destroyed with the filter (deferred, after the stream ends), never
  // while one of its own calls may be on the stack.
  ServerStreamHandlerPtr handler_;
  State state_ = State::kOpen;
  bool headers_sent_ = false;
};

}  // namespace modgate::grpc
