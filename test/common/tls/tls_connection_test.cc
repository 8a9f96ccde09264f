#include "source/common/tls/tls_connection.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/common/network/address.h"
#include "source/common/network/socket_connection.h"
#include "source/common/tls/client_context.h"
#include "test/upstream/test_support.h"

namespace modgate::tls {
namespace {

using upstream::testing::OriginProcess;
using upstream::testing::runUntil;
using upstream::testing::TestCerts;

class Recorder : public network::ConnectionCallbacks {
 public:
  void onData(buffer::Buffer& data) override {
    if (take) {
      received += data.toString();
      data.drain(data.length());
    }
    ++data_calls;
  }
  void onEvent(network::ConnectionEvent event) override {
    if (event == network::ConnectionEvent::kConnected) connected = true;
    if (event == network::ConnectionEvent::kRemoteClose) remote_closed = true;
    if (event == network::ConnectionEvent::kLocalClose) local_closed = true;
  }
  bool closed() const { return remote_closed || local_closed; }

  bool take = true;
  bool connected = false;
  bool remote_closed = false;
  bool local_closed = false;
  int data_calls = 0;
  std::string received;
};

class TlsConnectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certs_ = new std::optional<TestCerts>(TestCerts::generate()); }
  static void TearDownTestSuite() { delete certs_; }

  void SetUp() override { ASSERT_TRUE(certs_->has_value()) << "openssl CLI failed"; }

  void startOrigin(const std::string& alpn = "") {
    origin_ = OriginProcess::start({(*certs_)->cert, (*certs_)->key, alpn});
    ASSERT_NE(origin_, nullptr);
  }

  std::unique_ptr<ClientContext> context(const std::string& ca, std::vector<std::string> alpn = {},
                                         bool verify = true) {
    ClientContextConfig config;
    config.ca_file = ca;
    config.alpn = std::move(alpn);
    config.verify = verify;
    auto ctx = ClientContext::create(config);
    EXPECT_TRUE(ctx.ok()) << ctx.status();
    return ctx.ok() ? std::move(*ctx) : nullptr;
  }

  std::unique_ptr<TlsConnection> connect(const ClientContext& ctx, const std::string& name,
                                         Recorder& recorder) {
    auto address = network::parseAddress("127.0.0.1:" + std::to_string(origin_->port()));
    EXPECT_TRUE(address.ok());
    auto socket = network::SocketConnection::connect(dispatcher_, address->sockAddr(),
                                                     address->length, address->toString());
    auto ssl = ctx.newSsl(name);
    EXPECT_TRUE(ssl.ok()) << ssl.status();
    auto connection = std::make_unique<TlsConnection>(std::move(*ssl), std::move(socket));
    connection->setCallbacks(recorder);
    return connection;
  }

  static std::optional<TestCerts>* certs_;
  event::DispatcherImpl dispatcher_{"tls-test"};
  std::unique_ptr<OriginProcess> origin_;
};

std::optional<TestCerts>* TlsConnectionTest::certs_ = nullptr;

TEST_F(TlsConnectionTest, HandshakeVerifiesAndCarriesData) {
  startOrigin("http/1.1");
  auto ctx = context((*certs_)->ca, {"http/1.1"});
  Recorder recorder;
  auto connection = connect(*ctx, "localhost", recorder);
  // Written before the handshake: queued, then sent.
  buffer::Buffer request;
  request.add("GET /conn-close HTTP/1.1\r\nHost: localhost\r\n\r\n");
  connection->write(request);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder.connected || recorder.closed(); }));
  ASSERT_TRUE(recorder.connected) << connection->handshakeError();
  EXPECT_TRUE(connection->handshakeComplete());
  EXPECT_EQ(connection->negotiatedProtocol(), "http/1.1");
  EXPECT_FALSE(connection->supportsSendfile());
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder.closed(); }));
  EXPECT_TRUE(recorder.remote_closed);
  EXPECT_NE(recorder.received.find("HTTP/1.1 200 OK"), std::string::npos);
  EXPECT_NE(recorder.received.find("\r\n\r\nbye"), std::string::npos);
}

// The write path gathers small slices into one record and encrypts big ones
// where they lie (a record at most 16 KiB). A request head made of tiny
// slices (like HTTP/2 frame headers), slices just under and over the
// gathering threshold and slices bigger than a record must arrive byte-exact
// and in order: the origin's /echo answers with the head it received.
TEST_F(TlsConnectionTest, MixedSliceSizesArriveInOrder) {
  startOrigin("http/1.1");
  auto ctx = context((*certs_)->ca, {"http/1.1"});
  Recorder recorder;
  auto connection = connect(*ctx, "localhost", recorder);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder.connected || recorder.closed(); }));
  ASSERT_TRUE(recorder.connected) << connection->handshakeError();

  std::string head = "GET /echo HTTP/1.1\r\nHost: localhost";
  buffer::Buffer request;
  request.addShared(std::make_shared<const std::string>(head));
  const size_t sizes[] = {1, 9, 4095, 4096, 9, 16375, 16384, 16385, 3, 40000, 9, 100, 70000, 2};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); ++i) {
    // One slice per piece: addShared() never merges with its neighbours.
    std::string name = "\r\nx-" + std::to_string(i) + ": ";
    std::string value(sizes[i], static_cast<char>('a' + i % 26));
    request.addShared(std::make_shared<const std::string>(name));
    request.addShared(std::make_shared<const std::string>(value));
    head += name + value;
  }
  request.add("\r\n\r\n");
  connection->write(request);
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    return recorder.closed() || recorder.received.find(head) != std::string::npos;
  }));
  EXPECT_NE(recorder.received.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(recorder.received.find("\r\n\r\n" + head), std::string::npos);
  connection->close(network::CloseType::kNoFlush);
}

TEST_F(TlsConnectionTest, AlpnH2) {
  startOrigin("h2,http/1.1");
  auto ctx = context((*certs_)->ca, {"h2", "http/1.1"});
  Recorder recorder;
  auto connection = connect(*ctx, "localhost", recorder);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder.connected || recorder.closed(); }));
  ASSERT_TRUE(recorder.connected) << connection->handshakeError();
  EXPECT_EQ(connection->negotiatedProtocol(), "h2");
  connection->close(network::CloseType::kFlushWrite);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder.closed(); }));
  EXPECT_TRUE(recorder.local_closed);
  EXPECT_FALSE(connection->isOpen());
}

TEST_F(TlsConnectionTest, NoAlpnOffered) {
  startOrigin("h2,http/1.1");
  auto ctx = context((*certs_)->ca);
  Recorder recorder;
  auto connection = connect(*ctx, "localhost", recorder);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder.connected || recorder.closed(); }));
  ASSERT_TRUE(recorder.connected) << connection->handshakeError();
  EXPECT_EQ(connection->negotiatedProtocol(), "");
}

TEST_F(TlsConnectionTest, WrongCaFails) {
  startOrigin();
  auto ctx = context((*certs_)->other_ca);
  Recorder recorder;
  auto connection = connect(*ctx, "localhost", recorder);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder.connected || recorder.closed(); }));
  EXPECT_FALSE(recorder.connected);
  EXPECT_TRUE(recorder.remote_closed);
  EXPECT_TRUE(connection->transportConnected());
  EXPECT_NE(connection->handshakeError().find("certificate verify failed"), std::string::npos)
      << connection->handshakeError();
}

TEST_F(TlsConnectionTest, HostnameMismatchFails) {
  startOrigin();
  auto ctx = context((*certs_)->ca);
  for (const char* name : {"wrong.example", "127.0.0.1"}) {
    Recorder recorder;
    auto connection = connect(*ctx, name, recorder);
    ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder.connected || recorder.closed(); }));
    EXPECT_FALSE(recorder.connected) << name;
    EXPECT_NE(connection->handshakeError().find("certificate verify failed"), std::string::npos)
        << connection->handshakeError();
  }
}

TEST_F(TlsConnectionTest, VerifyOffAcceptsAnything) {
  startOrigin();
  auto ctx = context((*certs_)->other_ca, {}, /*verify=*/false);
  Recorder recorder;
  auto connection = connect(*ctx, "wrong.example", recorder);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder.connected || recorder.closed(); }));
  EXPECT_TRUE(recorder.connected) << connection->handshakeError();
}

TEST_F(TlsConnectionTest, MissingCaFileIsAnError) {
  ClientContextConfig config;
  config.ca_file = "/nonexistent/ca.pem";
  EXPECT_FALSE(ClientContext::create(config).ok());
}

TEST_F(TlsConnectionTest, PeerClosingDuringHandshakeFails) {
  // A server that accepts and hangs up at once.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::thread server([listener] {
    int fd = accept(listener, nullptr, nullptr);
    if (fd >= 0) close(fd);
  });
  auto ctx = context((*certs_)->ca);
  auto socket = network::SocketConnection::connect(dispatcher_, reinterpret_cast<sockaddr*>(&addr),
                                                   sizeof(addr), "peer");
  auto ssl = ctx->newSsl("localhost");
  ASSERT_TRUE(ssl.ok());
  TlsConnection connection(std::move(*ssl), std::move(socket));
  Recorder recorder;
  connection.setCallbacks(recorder);
  bool finished = runUntil(dispatcher_, [&] { return recorder.connected || recorder.closed(); });
  server.join();
  close(listener);
  ASSERT_TRUE(finished);
  EXPECT_FALSE(recorder.connected);
  EXPECT_TRUE(recorder.remote_closed);
  EXPECT_FALSE(connection.handshakeError().empty());
}

TEST_F(TlsConnectionTest, ReadDisableStopsDelivery) {
  startOrigin();
  auto ctx = context((*certs_)->ca);
  Recorder recorder;
  auto connection = connect(*ctx, "localhost", recorder);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder.connected || recorder.closed(); }));
  ASSERT_TRUE(recorder.connected);
  buffer::Buffer request;
  request.add("GET /big?size=4000000 HTTP/1.1\r\nHost: localhost\r\n\r\n");
  connection->write(request);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return recorder.received.size() > 100000; }));
  connection->readDisable(true);
  int calls = recorder.data_calls;
  upstream::testing::runFor(dispatcher_, std::chrono::milliseconds(200));
  EXPECT_EQ(recorder.data_calls, calls);
  connection->readDisable(false);
  auto complete = [&] {
    size_t header_end = recorder.received.find("\r\n\r\n");
    return header_end != std::string::npos && recorder.received.size() - header_end - 4 >= 4000000u;
  };
  ASSERT_TRUE(runUntil(dispatcher_, complete));
  size_t header_end = recorder.received.find("\r\n\r\n");
  EXPECT_EQ(recorder.received.size() - header_end - 4, 4000000u);
}

TEST_F(TlsConnectionTest, NoOpenSsl3InProcess) {
  // BoringSSL is mapped, OpenSSL 3 never is.
  EXPECT_TRUE(upstream::testing::processMapsLibrary("android/libssl.so.0"));
  EXPECT_FALSE(upstream::testing::processMapsLibrary("libssl.so.3"));
  EXPECT_FALSE(upstream::testing::processMapsLibrary("libcrypto.so.3"));
}

}  // namespace
}  // namespace modgate::tls
