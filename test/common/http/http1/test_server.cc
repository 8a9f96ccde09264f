#include "test/common/http/http1/test_server.h"

#include <memory>
#include <set>

#include "source/common/http/http1/server_connection.h"
#include "source/common/network/socket_connection.h"
#include "test/common/http/recording_stream.h"

namespace modgate::http::http1::testing {

// --- Streams ----------------------------------------------------------------

namespace {

constexpr size_t kBigBodySize = 5 * 1024 * 1024;
constexpr size_t kBigChunkSize = 256 * 1024;

}  // namespace

class TestStream;

// One accepted connection: the socket, the codec, and the owner duties the
// connection manager has in production (close on error / wantsToClose,
// forward watermarks and close events).
class TestConnection : public http::testing::LoopbackConnection,
                       public network::ConnectionCallbacks,
                       public ServerConnectionCallbacks {
 public:
  TestConnection(TestServer& server, int fd, std::string remote_address);
  ~TestConnection() override;

  // network::ConnectionCallbacks
  void onData(buffer::Buffer& data) override;
  void onEvent(network::ConnectionEvent event) override;
  void onAboveWriteBufferHighWatermark() override {
    if (codec_ != nullptr) codec_->onUnderlyingConnectionAboveWriteBufferHighWatermark();
  }
  void onBelowWriteBufferLowWatermark() override {
    if (codec_ != nullptr) codec_->onUnderlyingConnectionBelowWriteBufferLowWatermark();
  }

  // ServerConnectionCallbacks
  RequestDecoder& newStream(ResponseEncoder& encoder) override;
  void onUpgradeToH2c(std::unique_ptr<RequestHeaders> request, std::string http2_settings,
                      buffer::Buffer& rest) override;

  // http::testing::LoopbackConnection
  void shutdownNotice() override;
  void closeNow() override { connection_->close(network::CloseType::kNoFlush); }

  void onStreamDone(TestStream& stream);
  TestServer& server() { return server_; }

 private:
  void closeIfDone();
  void closeFlush();

  TestServer& server_;
  std::unique_ptr<network::SocketConnection> connection_;
  std::unique_ptr<ServerConnectionImpl> codec_;
  std::unique_ptr<ServerConnectionImpl> retired_codec_;
  std::set<TestStream*> streams_;
  bool closed_ = false;
  bool closing_ = false;
};

// A stream that answers from the path table.
class TestStream : public http::testing::RecordingStream {
 public:
  TestStream(TestConnection& parent, ResponseEncoder& encoder)
      : RecordingStream(encoder, parent.server().events(), parent.server().dispatcher()),
        parent_(parent) {}

  void decodeHeaders(std::unique_ptr<RequestHeaders> headers, bool end_stream) override {
    recordRequest(std::move(headers));
    // Like the real filters, answer from the headers alone unless the body
    // is wanted; the codec then drops the rest of the body.
    if (end_stream || request().path != "/echo") route();
  }

  void decodeData(buffer::Buffer& data, bool end_stream) override {
    appendBody(data, end_stream);
    if (end_stream && request().path == "/echo") route();
  }

 private:
  std::string completeEvent() const override { return "complete:" + request().path; }
  void onResume() override {
    if (big_sent_ < kBigBodySize && big_started_) produceBig();
  }
  void onDone() override { parent_.onStreamDone(*this); }

  void route() {
    const std::string& path = request().path;
    const std::string& method = request().method;
    if (method != "GET" && method != "HEAD" && !(method == "POST" && path == "/echo")) {
      respond(405, "method not allowed");
    } else if (path == "/hello") {
      respond(200, "hello");
    } else if (path.rfind("/p/", 0) == 0) {
      respond(200, path);
    } else if (path.rfind("/slow/", 0) == 0) {
      later(std::chrono::milliseconds(20), [this] { respond(200, request().path); });
    } else if (path == "/slower") {
      later(std::chrono::milliseconds(300), [this] { respond(200, "slower"); });
    } else if (path == "/echo") {
      respond(200, body());
    } else if (path == "/empty") {
      respondHeadersOnly(200);
    } else if (path == "/nocontent") {
      respondHeadersOnly(204);
    } else if (path == "/chunked") {
      ResponseHeaders headers;
      headers.headers.add("content-type", "text/plain");
      encoder().encodeHeaders(headers, false);
      buffer::Buffer first;
      first.add("abc");
      encoder().encodeData(first, false);
      later(std::chrono::milliseconds(10), [this] {
        buffer::Buffer second;
        second.add("defgh");
        encoder().encodeData(second, true);
        complete();
      });
    } else if (path == "/big") {
      ResponseHeaders headers;
      headers.headers.add("content-length", std::to_string(kBigBodySize));
      encoder().encodeHeaders(headers, false);
      big_started_ = true;
      produceBig();
    } else if (path == "/hang") {
      hang(1000);
    } else if (path == "/reset") {
      resetAfterHeaders();
    } else {
      respond(404, "not found");
    }
  }

  // Produces the /big body in chunks until the connection pushes back.
  void produceBig() {
    // A fixed pattern the client can verify without keeping a copy.
    static const std::shared_ptr<const std::string> chunk = [] {
      auto s = std::make_shared<std::string>(kBigChunkSize, '\0');
      for (size_t i = 0; i < kBigChunkSize; ++i) (*s)[i] = static_cast<char>('a' + i % 26);
      return std::shared_ptr<const std::string>(std::move(s));
    }();
    while (!paused() && !done() && big_sent_ < kBigBodySize) {
      buffer::Buffer data;
      data.addShared(chunk);
      big_sent_ += kBigChunkSize;
      const bool last = big_sent_ >= kBigBodySize;
      encoder().encodeData(data, last);
      if (last) {
        complete();
        return;
      }
    }
  }

  TestConnection& parent_;
  bool big_started_ = false;
  size_t big_sent_ = 0;
};

// --- TestConnection -----------------------------------------------------------

TestConnection::TestConnection(TestServer& server, int fd, std::string remote_address)
    : server_(server),
      connection_(std::make_unique<network::SocketConnection>(server.dispatcher(), fd,
                                                              std::move(remote_address))) {
  connection_->setCallbacks(*this);
  codec_ = std::make_unique<ServerConnectionImpl>(*connection_, *this, server.settings());
}

TestConnection::~TestConnection() {
  for (TestStream* stream : streams_) delete stream;
}

void TestConnection::onData(buffer::Buffer& data) {
  if (closed_ || codec_ == nullptr) {
    data.drain(data.length());
    return;
  }
  absl::Status status = codec_->dispatch(data);
  if (closed_) return;
  if (!status.ok()) {
    server_.events().record("dispatch_error:" + std::string(status.message()));
    closeFlush();
    return;
  }
  closeIfDone();
}

void TestConnection::onEvent(network::ConnectionEvent event) {
  if (event == network::ConnectionEvent::kConnected || closed_) return;
  closed_ = true;
  if (codec_ != nullptr) codec_->onConnectionClosed();
  server_.events().record(event == network::ConnectionEvent::kRemoteClose ? "conn:remote_close"
                                                                          : "conn:local_close");
  server_.onConnectionClosed(*this);
}

RequestDecoder& TestConnection::newStream(ResponseEncoder& encoder) {
  auto* stream = new TestStream(*this, encoder);
  streams_.insert(stream);
  return *stream;
}

void TestConnection::onUpgradeToH2c(std::unique_ptr<RequestHeaders> request,
                                    std::string http2_settings, buffer::Buffer& rest) {
  server_.events().record(
      "upgrade:" + request->method + " " + request->path + " " + request->authority +
      " settings=" + http2_settings + " rest=" + rest.toString() +
      " has_upgrade_header=" + (request->headers.get("upgrade") != nullptr ? "yes" : "no"));
  rest.drain(rest.length());
  // The HTTP/1.1 codec is on the stack: keep it alive until we return.
  retired_codec_ = std::move(codec_);
}

void TestConnection::onStreamDone(TestStream& stream) {
  streams_.erase(&stream);
  server_.dispatcher().deferredDelete(event::DeferredDeletablePtr(&stream));
  closeIfDone();
}

void TestConnection::closeIfDone() {
  if (!closed_ && streams_.empty() && codec_ != nullptr && codec_->wantsToClose()) {
    closeFlush();
  }
}

void TestConnection::closeFlush() {
  // SocketConnection::close(kFlushWrite) on a connection that is already
  // flushing closes at once and drops the output: only ask once.
  if (closing_ || closed_) return;
  closing_ = true;
  connection_->close(network::CloseType::kFlushWrite);
}

void TestConnection::shutdownNotice() {
  if (codec_ == nullptr || closed_) return;
  codec_->shutdownNotice();
  closeIfDone();
}

// --- TestServer ---------------------------------------------------------------

TestServer::TestServer(const CodecSettings& settings)
    : settings_(settings), loopback_("http1-test", [this](int fd, std::string remote_address) {
        return std::make_unique<TestConnection>(*this, fd, std::move(remote_address));
      }) {}

void TestServer::onConnectionClosed(TestConnection& connection) {
  loopback_.onConnectionClosed(connection);
}

}  // namespace modgate::http::http1::testing
