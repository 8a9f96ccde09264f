#pragma once

#include <http_parser.h>

#include <memory>
#include <string>

#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/network/connection.h"
#include "source/upstream/client_connection.h"
#include "source/upstream/resource_limit.h"

namespace modgate::upstream {

// HTTP/1.1 client codec over one Connection (plain or TLS): writes the
// request, parses the response with http_parser (content-length, chunked and
// read-until-close framing) and streams the body to the decoder as it
// arrives, never buffering it whole.
class Http1ClientConnection : public ClientConnection, private network::ConnectionCallbacks {
 public:
  // Response header bytes (names + values) beyond which the exchange fails
  // with kOverflow.
  static constexpr size_t kMaxHeaderBytes = 64 * 1024;

  explicit Http1ClientConnection(network::ConnectionPtr connection);
  ~Http1ClientConnection() override;

  // ClientConnection
  void sendRequest(const RequestHead& head, ResponseDecoder& decoder) override;
  void resetStream() override;
  void readDisable(bool disable) override;
  bool reusable() const override;
  bool isOpen() const override { return connection_->isOpen(); }
  void close() override;
  void setCloseCallback(std::function<void()> cb) override { close_cb_ = std::move(cb); }
  uint64_t id() const override { return connection_->id(); }

  // The connection's place under the circuit breakers: released as soon as
  // the connection closes (not when it is finally deleted), so that a
  // waiting request can open another at once.
  void adoptSlot(ResourceHandlePtr slot) { slot_ = std::move(slot); }

 private:
  // network::ConnectionCallbacks
  void onData(buffer::Buffer& data) override;
  void onEvent(network::ConnectionEvent event) override;

  static int onMessageBeginCb(http_parser* parser);
  static int onHeaderFieldCb(http_parser* parser, const char* at, size_t length);
  static int onHeaderValueCb(http_parser* parser, const char* at, size_t length);
  static int onHeadersCompleteCb(http_parser* parser);
  static int onBodyCb(http_parser* parser, const char* at, size_t length);
  static int onMessageCompleteCb(http_parser* parser);
  static const http_parser_settings& parserSettings();

  int onHeaderField(const char* at, size_t length);
  int onHeaderValue(const char* at, size_t length);
  int onHeadersComplete();
  int onBody(const char* at, size_t length);
  int onMessageComplete();
  void commitHeader();
  // Parses buffered input while an exchange wants it.
  void dispatch();
  // Hands parsed headers/body/end to the decoder.
  void deliver();
  // The peer closed: ends a read-until-close body or fails the exchange.
  void onPeerClosed();
  // Ends the exchange with an error and closes the connection.
  void failStream(FailureReason reason, std::string detail);
  // The exchange is over: back to idle.
  void endStream();
  bool streamActive() const { return decoder_ != nullptr; }

  network::ConnectionPtr connection_;
  ResourceHandlePtr slot_;
  std::function<void()> close_cb_;
  ResponseDecoder* decoder_ = nullptr;
  http_parser parser_;
  buffer::Buffer input_;
  buffer::Buffer body_;
  std::unique_ptr<http::ResponseHeaders> headers_;
  std::string field_;
  std::string value_;
  bool in_value_ = false;
  size_t header_bytes_ = 0;
  bool head_request_ = false;
  bool response_started_ = false;
  bool headers_ready_ = false;
  bool headers_delivered_ = false;
  bool no_body_ = false;        // headers are delivered with end_stream
  bool informational_ = false;  // a 1xx response being skipped
  bool keep_alive_ = false;
  bool eof_framed_ = false;  // body ends when the connection closes
  bool message_complete_ = false;
  bool reusable_ = false;
  bool overflow_ = false;
  bool read_disabled_ = false;
  bool peer_closed_ = false;
  bool dispatching_ = false;
  event::TimerPtr resume_timer_;
};

}  // namespace modgate::upstream
