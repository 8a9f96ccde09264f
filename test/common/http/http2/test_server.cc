#include "test/common/http/http2/test_server.h"

#include <signal.h>

#include <algorithm>
#include <memory>
#include <set>
#include <vector>

#include "source/common/http/http2/server_connection.h"
#include "source/common/network/socket_connection.h"
#include "test/common/http/recording_stream.h"

namespace modgate::http::http2::testing {

// --- Streams ----------------------------------------------------------------

namespace {

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// The /big body as shared immutable chunks: encodeData() references them.
const std::vector<std::shared_ptr<const std::string>>& bigChunks() {
  static const auto* chunks = [] {
    auto* out = new std::vector<std::shared_ptr<const std::string>>();
    for (size_t offset = 0; offset < kBigBodySize; offset += kBigChunkSize) {
      auto chunk = std::make_shared<std::string>(kBigChunkSize, '\0');
      for (size_t i = 0; i < kBigChunkSize; ++i) (*chunk)[i] = bigBodyByte(offset + i);
      out->push_back(std::move(chunk));
    }
    return out;
  }();
  return *chunks;
}

}  // namespace

class TestStream;

// The network connection as the codec sees it: forwards to the socket and
// counts write() calls, so tests can check that frames are batched.
class CountingConnection : public network::Connection {
 public:
  CountingConnection(network::Connection& inner, std::atomic<int>& writes)
      : inner_(inner), writes_(writes) {}
  void setCallbacks(network::ConnectionCallbacks& callbacks) override {
    inner_.setCallbacks(callbacks);
  }
  void write(buffer::Buffer& data) override {
    writes_++;
    inner_.write(data);
  }
  size_t bufferedWriteBytes() const override { return inner_.bufferedWriteBytes(); }
  uint64_t bytesWritten() const override { return inner_.bytesWritten(); }
  void setWriteBufferWatermarks(size_t low, size_t high) override {
    inner_.setWriteBufferWatermarks(low, high);
  }
  void readDisable(bool disable) override { inner_.readDisable(disable); }
  void close(network::CloseType type) override { inner_.close(type); }
  bool isOpen() const override { return inner_.isOpen(); }
  const std::string& remoteAddress() const override { return inner_.remoteAddress(); }
  std::string_view negotiatedProtocol() const override { return inner_.negotiatedProtocol(); }
  bool supportsSendfile() const override { return inner_.supportsSendfile(); }
  event::Dispatcher& dispatcher() override { return inner_.dispatcher(); }
  uint64_t id() const override { return inner_.id(); }

 private:
  network::Connection& inner_;
  std::atomic<int>& writes_;
};

// One accepted connection: the socket, the protocol detection / h2c upgrade
// driver, the codec, and the owner duties the connection manager has in
// production (close on error / wantsToClose, forward watermarks and close
// events).
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
    server_.events().record("conn:above");
    if (codec_ != nullptr) codec_->onUnderlyingConnectionAboveWriteBufferHighWatermark();
  }
  void onBelowWriteBufferLowWatermark() override {
    server_.events().record("conn:below");
    if (codec_ != nullptr) codec_->onUnderlyingConnectionBelowWriteBufferLowWatermark();
  }

  // ServerConnectionCallbacks
  RequestDecoder& newStream(ResponseEncoder& encoder) override;
  void onUpgradeToH2c(std::unique_ptr<RequestHeaders>, std::string, buffer::Buffer&) override {}

  // http::testing::LoopbackConnection
  void shutdownNotice() override;
  void closeNow() override { connection_->close(network::CloseType::kNoFlush); }

  void onStreamDone(TestStream& stream);
  TestServer& server() { return server_; }

 private:
  // Before the codec exists: prior knowledge or an h2c upgrade request.
  // Returns false when more bytes are needed.
  bool detectProtocol(buffer::Buffer& data);
  bool upgrade(buffer::Buffer& data, size_t head_length);
  void closeIfDone();

  TestServer& server_;
  std::unique_ptr<network::SocketConnection> connection_;
  CountingConnection counting_;
  std::unique_ptr<ServerConnectionImpl> codec_;
  std::set<TestStream*> streams_;
  bool closed_ = false;
};

// A stream that answers from the path table.
class TestStream : public http::testing::RecordingStream {
 public:
  TestStream(TestConnection& parent, ResponseEncoder& encoder)
      : RecordingStream(encoder, parent.server().events(), parent.server().dispatcher()),
        parent_(parent) {}

  void decodeHeaders(std::unique_ptr<RequestHeaders> headers, bool end_stream) override {
    recordRequest(std::move(headers));
    // "/early" answers before the request body has come (as a server
    // rejecting a request does).
    if (end_stream || request().path == "/early") route();
  }

  void decodeData(buffer::Buffer& data, bool end_stream) override {
    appendBody(data, end_stream);
    if (end_stream) route();
  }

 private:
  std::string completeEvent() const override {
    return "complete:" + request().method + ":" + request().path;
  }
  void onResume() override {
    if (big_started_ && !done()) scheduleBig();
  }
  void onDone() override { parent_.onStreamDone(*this); }

  void route() {
    const std::string& path = request().path;
    if (path == "/hello") {
      respond(200, "hello");
    } else if (path == "/early") {
      respond(200, "early");
    } else if (path.rfind("/p/", 0) == 0) {
      respond(200, path);
    } else if (path == "/slow") {
      later(std::chrono::milliseconds(50), [this] { respond(200, "slow"); });
    } else if (path == "/slower") {
      later(std::chrono::milliseconds(500), [this] { respond(200, "slower"); });
    } else if (path == "/echo") {
      respond(200, body());
    } else if (path == "/empty") {
      respondHeadersOnly(204);
    } else if (path == "/big") {
      ResponseHeaders headers;
      headers.headers.add("content-type", "application/octet-stream");
      headers.headers.add("content-length", std::to_string(kBigBodySize));
      // Dropped by the codec: HTTP/2 has no connection-specific headers.
      headers.headers.add("connection", "keep-alive");
      headers.headers.add("transfer-encoding", "chunked");
      encoder().encodeHeaders(headers, false);
      big_started_ = true;
      scheduleBig();
    } else if (path == "/hang") {
      hang(100000);
    } else if (path == "/reset") {
      resetAfterHeaders();
    } else {
      respond(404, "not found");
    }
  }

  // The /big body goes out one chunk per timer tick, so the response is
  // produced while earlier chunks are still waiting for flow control.
  void scheduleBig() {
    if (paused() || done()) return;
    later(std::chrono::milliseconds(1), [this] { produceBig(); });
  }

  void produceBig() {
    if (paused() || done() || big_next_ >= bigChunks().size()) return;
    buffer::Buffer data;
    data.addShared(bigChunks()[big_next_++]);
    const bool last = big_next_ == bigChunks().size();
    encoder().encodeData(data, last);
    if (last) {
      complete();
      return;
    }
    scheduleBig();
  }

  TestConnection& parent_;
  bool big_started_ = false;
  size_t big_next_ = 0;
};

// --- TestConnection -----------------------------------------------------------

TestConnection::TestConnection(TestServer& server, int fd, std::string remote_address)
    : server_(server),
      connection_(std::make_unique<network::SocketConnection>(server.dispatcher(), fd,
                                                              std::move(remote_address))),
      counting_(*connection_, server.writes_) {
  connection_->setCallbacks(*this);
}

TestConnection::~TestConnection() {
  for (TestStream* stream : streams_) delete stream;
}

void TestConnection::onData(buffer::Buffer& data) {
  if (closed_) {
    data.drain(data.length());
    return;
  }
  if (codec_ == nullptr && !detectProtocol(data)) return;
  if (closed_ || codec_ == nullptr) return;
  absl::Status status = codec_->dispatch(data);
  if (closed_) return;
  if (!status.ok()) {
    server_.events().record("dispatch_error:" + std::string(status.message()));
    connection_->close(network::CloseType::kFlushWrite);
    return;
  }
  closeIfDone();
}

bool TestConnection::detectProtocol(buffer::Buffer& data) {
  const size_t length = data.length();
  std::string head(std::min(length, kPreface.size()), '\0');
  data.copyOut(head.data(), head.size());
  // "PRI " is never an HTTP/1.1 method: the rest (even a broken preface) is
  // the codec's to judge.
  if (kPreface.substr(0, std::min<size_t>(head.size(), 4)) == head.substr(0, 4)) {
    if (head.size() < kPreface.size()) return false;  // wait for the whole preface
    server_.events().record("conn:prior_knowledge");
    codec_ = std::make_unique<ServerConnectionImpl>(counting_, *this, server_.settings());
    return true;
  }
  const ssize_t end = data.search("\r\n\r\n");
  if (end < 0) {
    if (length > 16 * 1024) connection_->close(network::CloseType::kNoFlush);
    return false;
  }
  return upgrade(data, static_cast<size_t>(end) + 4);
}

// Just enough HTTP/1.1 to accept "Upgrade: h2c" (RFC 7540 3.2).
bool TestConnection::upgrade(buffer::Buffer& data, size_t head_length) {
  std::string head(head_length, '\0');
  data.copyOut(head.data(), head_length);
  data.drain(head_length);
  auto request = std::make_unique<RequestHeaders>();
  std::string settings;
  bool upgrade_h2c = false;
  size_t line_start = 0;
  bool first = true;
  while (line_start < head.size()) {
    size_t line_end = head.find("\r\n", line_start);
    if (line_end == std::string::npos || line_end == line_start) break;
    std::string line = head.substr(line_start, line_end - line_start);
    line_start = line_end + 2;
    if (first) {
      first = false;
      size_t sp1 = line.find(' ');
      size_t sp2 = line.find(' ', sp1 + 1);
      if (sp1 == std::string::npos || sp2 == std::string::npos) break;
      request->method = line.substr(0, sp1);
      request->path = line.substr(sp1 + 1, sp2 - sp1 - 1);
      request->scheme = "http";
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    size_t value_start = line.find_first_not_of(' ', colon + 1);
    std::string value = value_start == std::string::npos ? "" : line.substr(value_start);
    if (name == "host") {
      request->authority = value;
    } else {
      if (name == "upgrade" && value == "h2c") upgrade_h2c = true;
      if (name == "http2-settings") settings = value;
      request->headers.add(name, value);
    }
  }
  if (!upgrade_h2c || request->method.empty()) {
    server_.events().record("conn:not_h2c");
    buffer::Buffer out;
    out.add("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    connection_->write(out);
    connection_->close(network::CloseType::kFlushWrite);
    return false;
  }
  server_.events().record("conn:upgrade settings=" + settings);
  buffer::Buffer out;
  out.add("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
  connection_->write(out);
  codec_ = ServerConnectionImpl::createUpgraded(counting_, *this, server_.settings(), settings,
                                                std::move(request));
  if (codec_ == nullptr) {
    server_.events().record("conn:upgrade_failed");
    connection_->close(network::CloseType::kFlushWrite);
    return false;
  }
  return true;
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
  server_.noteConcurrency(static_cast<int>(streams_.size()));
  return *stream;
}

void TestConnection::onStreamDone(TestStream& stream) {
  streams_.erase(&stream);
  server_.dispatcher().deferredDelete(event::DeferredDeletablePtr(&stream));
  closeIfDone();
}

void TestConnection::closeIfDone() {
  if (!closed_ && streams_.empty() && codec_ != nullptr && codec_->wantsToClose()) {
    server_.events().record("conn:wants_to_close");
    connection_->close(network::CloseType::kFlushWrite);
  }
}

void TestConnection::shutdownNotice() {
  if (codec_ == nullptr || closed_) return;
  codec_->shutdownNotice();
  closeIfDone();
}

// --- TestServer ---------------------------------------------------------------

TestServer::TestServer(const CodecSettings& settings)
    : settings_(settings), loopback_("http2-test", [this](int fd, std::string remote_address) {
        return std::make_unique<TestConnection>(*this, fd, std::move(remote_address));
      }) {
  // Writes to a socket the client already closed must fail with EPIPE, not
  // kill the test; the production server ignores SIGPIPE the same way. No
  // client knows the port before the constructor returns.
  signal(SIGPIPE, SIG_IGN);
  bigChunks();  // build the pattern off the dispatcher thread
}

std::string TestServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
}

void TestServer::onConnectionClosed(TestConnection& connection) {
  loopback_.onConnectionClosed(connection);
}

void TestServer::noteConcurrency(int streams) {
  int current = max_concurrent_.load();
  while (streams > current && !max_concurrent_.compare_exchange_weak(current, streams)) {
  }
}

}  // namespace modgate::http::http2::testing
