#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/http/header_map.h"
#include "source/upstream/http_client.h"

namespace modgate::upstream {

// What goes on the request line and in the headers.
struct RequestHead {
  std::string method = "GET";
  std::string target;     // origin-form: "/path?query"
  std::string authority;  // Host
  const http::HeaderMap* extra_headers = nullptr;
  // HTTP/2 only: the request has a body that the caller streams with
  // Http2ClientStream::sendData() for as long as it likes (a gRPC
  // bidirectional stream); HEADERS go out without END_STREAM. Default: no
  // body.
  bool streaming_body = false;
};

// Receives one response from a ClientConnection.
class ResponseDecoder {
 public:
  virtual ~ResponseDecoder() = default;
  virtual void decodeHeaders(std::unique_ptr<http::ResponseHeaders> headers, bool end_stream) = 0;
  // Drain what is consumed; the rest stays in front of the next call.
  virtual void decodeData(buffer::Buffer& data, bool end_stream) = 0;
  // HTTP/2 trailers (gRPC's grpc-status), handed over just before the
  // final decodeData(..., true), so decoders that ignore them see the same
  // end as without. Default: ignored.
  virtual void decodeTrailers(std::unique_ptr<http::HeaderMap> trailers) {}
  // The exchange failed and the connection is closed. `response_started`:
  // some response byte had arrived (so a retry is not known to be safe).
  virtual void onStreamFailure(FailureReason reason, std::string_view detail,
                               bool response_started) = 0;
  // The origin refused the request without processing it (HTTP/2: the
  // stream id was above a GOAWAY's last_stream_id, or RST_STREAM
  // REFUSED_STREAM), so repeating it anywhere is safe. Only the stream ended:
  // other streams of the connection go on.
  virtual void onStreamRefused(std::string_view detail) {
    onStreamFailure(FailureReason::kReset, detail, false);
  }
};

// What one request holds for one exchange: a whole HTTP/1.1 connection
// (owned by the request while in use and by its pool while idle), or one
// stream of a pooled HTTP/2 connection (Http2ClientStream; the pool owns the
// connection, so closing or resetting the stream leaves the other streams
// alone). Always destroyed through Dispatcher::deferredDelete().
class ClientConnection : public event::DeferredDeletable {
 public:
  // Starts an exchange; the decoder gets the response. The connection must
  // be idle (no exchange in progress).
  virtual void sendRequest(const RequestHead& head, ResponseDecoder& decoder) = 0;
  // Abandons the exchange in progress (no more decoder calls) and closes.
  virtual void resetStream() = 0;
  // Back-pressure for the exchange in progress; cleared when it ends.
  virtual void readDisable(bool disable) = 0;
  // The last response ended cleanly and the connection may carry another.
  virtual bool reusable() const = 0;
  virtual bool isOpen() const = 0;
  virtual void close() = 0;
  // Runs when the connection closes for any reason (after any decoder
  // failure). The pool watches idle connections with it.
  virtual void setCloseCallback(std::function<void()> cb) = 0;
  virtual uint64_t id() const = 0;
};
using ClientConnectionPtr = std::unique_ptr<ClientConnection>;

}  // namespace modgate::upstream
