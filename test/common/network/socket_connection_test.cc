#include "source/common/network/socket_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "source/common/event/dispatcher_impl.h"

namespace modgate::network {
namespace {

using std::chrono::milliseconds;

// Records what a connection reports; optional hooks react to it.
struct Recorder : public ConnectionCallbacks {
  void onData(buffer::Buffer& data) override {
    ++data_calls;
    if (consume) {
      received += data.toString();
      data.drain(data.length());
    }
    if (on_data) on_data(data);
  }
  void onEvent(ConnectionEvent event) override {
    events.push_back(event);
    if (on_event) on_event(event);
  }
  void onAboveWriteBufferHighWatermark() override { ++above; }
  void onBelowWriteBufferLowWatermark() override {
    ++below;
    if (on_below) on_below();
  }

  bool consume = true;
  std::string received;
  int data_calls = 0;
  std::vector<ConnectionEvent> events;
  int above = 0;
  int below = 0;
  std::function<void(buffer::Buffer&)> on_data;
  std::function<void(ConnectionEvent)> on_event;
  std::function<void()> on_below;
};

class SocketConnectionTest : public testing::Test {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listen_fd_, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(::listen(listen_fd_, 16), 0);
    socklen_t length = sizeof(address_);
    ASSERT_EQ(getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address_), &length), 0);
    // A bounded run: a test that never calls exit() fails instead of hanging.
    deadline_ = dispatcher_.createTimer([this] {
      ADD_FAILURE() << "timed out";
      dispatcher_.exit();
    });
    deadline_->enableTimer(milliseconds(10000));
  }
  void TearDown() override { ::close(listen_fd_); }

  std::unique_ptr<SocketConnection> connectClient() {
    return SocketConnection::connect(dispatcher_, reinterpret_cast<const sockaddr*>(&address_),
                                     sizeof(address_), "127.0.0.1:server");
  }
  // A raw non-blocking socket connected to the listener, and its accepted
  // peer wrapped in a SocketConnection.
  std::unique_ptr<SocketConnection> acceptServer() {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    EXPECT_GE(fd, 0);
    return std::make_unique<SocketConnection>(dispatcher_, fd, "127.0.0.1:client");
  }
  // A connected pair with recorders: client_ (still connecting) and server_.
  void connectPair() {
    client_ = connectClient();
    client_->setCallbacks(client_cb_);
    server_ = acceptServer();
    server_->setCallbacks(server_cb_);
  }
  int rawClient() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&address_), sizeof(address_)), 0);
    return fd;
  }
  static std::string pattern(size_t length) {
    std::string out(length, '\0');
    for (size_t i = 0; i < length; ++i) out[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return out;
  }

  event::DispatcherImpl dispatcher_{"test"};
  event::TimerPtr deadline_;
  int listen_fd_ = -1;
  sockaddr_in address_{};
  Recorder client_cb_;
  Recorder server_cb_;
  // Declared last: destroyed before the recorders and the dispatcher.
  std::unique_ptr<SocketConnection> client_;
  std::unique_ptr<SocketConnection> server_;
};

TEST_F(SocketConnectionTest, ConnectsAndEchoes) {
  auto client = connectClient();
  Recorder client_cb;
  client->setCallbacks(client_cb);
  // Written before the connect finished: queued, sent once connected.
  buffer::Buffer hello;
  hello.add("hello");
  client->write(hello);
  EXPECT_EQ(hello.length(), 0u);

  auto server = acceptServer();
  Recorder server_cb;
  server->setCallbacks(server_cb);
  server_cb.on_data = [&](buffer::Buffer&) {
    if (server_cb.received != "hello") return;
    buffer::Buffer reply;
    reply.add("world");
    server->write(reply);
  };
  client_cb.on_data = [&](buffer::Buffer&) {
    if (client_cb.received == "world") dispatcher_.exit();
  };
  dispatcher_.run();
  ASSERT_EQ(client_cb.events.size(), 1u);
  EXPECT_EQ(client_cb.events[0], ConnectionEvent::kConnected);
  EXPECT_EQ(server_cb.received, "hello");
  EXPECT_EQ(client_cb.received, "world");

  // A local close reports kLocalClose; the peer sees kRemoteClose.
  server_cb.on_event = [&](ConnectionEvent) { dispatcher_.exit(); };
  client->close(CloseType::kNoFlush);
  EXPECT_FALSE(client->isOpen());
  EXPECT_EQ(client_cb.events.back(), ConnectionEvent::kLocalClose);
  dispatcher_.run();
  ASSERT_FALSE(server_cb.events.empty());
  EXPECT_EQ(server_cb.events.back(), ConnectionEvent::kRemoteClose);
}

TEST_F(SocketConnectionTest, RefusedConnectReportsRemoteCloseFromTheLoop) {
  ::close(listen_fd_);
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);  // so TearDown closes something
  auto client = connectClient();
  Recorder client_cb;
  client->setCallbacks(client_cb);
  EXPECT_TRUE(client_cb.events.empty());  // never from inside connect()
  client_cb.on_event = [&](ConnectionEvent) { dispatcher_.exit(); };
  dispatcher_.run();
  ASSERT_EQ(client_cb.events.size(), 1u);
  EXPECT_EQ(client_cb.events[0], ConnectionEvent::kRemoteClose);
}

TEST_F(SocketConnectionTest, BackPressureDeliversEveryByteInOrder) {
  // 8 MiB to a reader that pauses: the writer crosses its high watermark,
  // then falls below the low one once the reader resumes.
  const std::string body = pattern(8 << 20);
  connectPair();
  server_->setWriteBufferWatermarks(64 << 10, 256 << 10);
  client_->readDisable(true);
  buffer::Buffer data;
  data.add(body);
  server_->write(data);
  EXPECT_EQ(server_cb_.above, 1);
  auto resume = dispatcher_.createTimer([&] { client_->readDisable(false); });
  resume->enableTimer(milliseconds(200));
  client_cb_.on_data = [&](buffer::Buffer&) {
    if (client_cb_.received.size() == body.size()) dispatcher_.exit();
  };
  dispatcher_.run();
  EXPECT_EQ(client_cb_.received.size(), body.size());
  EXPECT_TRUE(client_cb_.received == body);
  EXPECT_EQ(server_cb_.below, 1);
  EXPECT_EQ(server_->bufferedWriteBytes(), 0u);
}

TEST_F(SocketConnectionTest, FlushCloseSendsEverythingFirst) {
  const std::string body = pattern(4 << 20);
  connectPair();
  buffer::Buffer data;
  data.add(body);
  server_->write(data);
  server_->close(CloseType::kFlushWrite);
  EXPECT_TRUE(server_->isOpen());  // still flushing
  client_cb_.on_event = [&](ConnectionEvent event) {
    if (event == ConnectionEvent::kRemoteClose) dispatcher_.exit();
  };
  dispatcher_.run();
  EXPECT_TRUE(client_cb_.received == body);
  EXPECT_FALSE(server_->isOpen());
  ASSERT_FALSE(server_cb_.events.empty());
  EXPECT_EQ(server_cb_.events.back(), ConnectionEvent::kLocalClose);
}

TEST_F(SocketConnectionTest, AFinSeenWhilePausedEndsTheStreamOnResume) {
  // The FIN's edge (EPOLLRDHUP) comes while reading is paused; the resumed
  // read must go on to the EOF rather than stop at the last short read.
  const std::string body = pattern(100 << 10);
  connectPair();
  client_->readDisable(true);
  buffer::Buffer data;
  data.add(body);
  server_->write(data);
  server_->close(CloseType::kFlushWrite);
  auto resume = dispatcher_.createTimer([&] { client_->readDisable(false); });
  resume->enableTimer(milliseconds(100));
  client_cb_.on_event = [&](ConnectionEvent event) {
    if (event == ConnectionEvent::kRemoteClose) dispatcher_.exit();
  };
  dispatcher_.run();
  EXPECT_TRUE(client_cb_.received == body);
  ASSERT_FALSE(client_cb_.events.empty());
  EXPECT_EQ(client_cb_.events.back(), ConnectionEvent::kRemoteClose);
}

TEST_F(SocketConnectionTest, HalfClosedClientStillGetsItsAnswer) {
  // A request and its FIN arrive together (`printf 'GET ...' | nc -N`): the
  // answer written while handling the data is sent before the close.
  const int raw = rawClient();
  auto server = acceptServer();
  Recorder server_cb;
  server->setCallbacks(server_cb);
  ASSERT_EQ(::write(raw, "ping", 4), 4);
  ASSERT_EQ(::shutdown(raw, SHUT_WR), 0);
  server_cb.on_data = [&](buffer::Buffer&) {
    buffer::Buffer reply;
    reply.add("pong");
    server->write(reply);
  };
  server_cb.on_event = [&](ConnectionEvent) { dispatcher_.exit(); };
  dispatcher_.run();
  EXPECT_EQ(server_cb.received, "ping");
  ASSERT_EQ(server_cb.events.size(), 1u);
  EXPECT_EQ(server_cb.events[0], ConnectionEvent::kRemoteClose);
  char reply[16];
  EXPECT_EQ(::read(raw, reply, sizeof(reply)), 4);
  EXPECT_EQ(std::string(reply, 4), "pong");
  ::close(raw);
}

TEST_F(SocketConnectionTest, AResetBehindTheLastBytesClosesWithoutAnAnswer) {
  // A TLS client that sends its Finished and resets (openssl s_time): the
  // bytes and the reset come in one event, which libevent reports as
  // EV_READ|EV_WRITE without EV_CLOSED, and the reader writes nothing back
  // that would fail on the reset. The close must still be seen now, not at
  // the idle timeout.
  const int raw = rawClient();
  auto server = acceptServer();
  Recorder server_cb;
  server->setCallbacks(server_cb);
  ASSERT_EQ(::write(raw, "finished", 8), 8);
  const linger reset{1, 0};
  ASSERT_EQ(::setsockopt(raw, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)), 0);
  ::close(raw);
  server_cb.on_event = [&](ConnectionEvent) { dispatcher_.exit(); };
  dispatcher_.run();
  EXPECT_EQ(server_cb.received, "finished");
  ASSERT_EQ(server_cb.events.size(), 1u);
  EXPECT_EQ(server_cb.events[0], ConnectionEvent::kRemoteClose);
  EXPECT_FALSE(server->isOpen());
}

TEST_F(SocketConnectionTest, BytesAndCloseWhilePausedWaitForResume) {
  const int raw = rawClient();
  auto server = acceptServer();
  Recorder server_cb;
  server->setCallbacks(server_cb);
  // The reader consumes one byte per call and pauses: the rest stays
  // buffered, and the peer's close is held back until it resumes.
  server_cb.consume = false;
  server_cb.on_data = [&](buffer::Buffer& data) {
    server_cb.received += data.toString().substr(0, 1);
    data.drain(1);
    server->readDisable(true);
  };
  ASSERT_EQ(::write(raw, "abc", 3), 3);
  ::close(raw);
  auto check = dispatcher_.createTimer([&] { dispatcher_.exit(); });
  check->enableTimer(milliseconds(100));
  dispatcher_.run();
  EXPECT_EQ(server_cb.received, "a");
  EXPECT_TRUE(server_cb.events.empty());
  EXPECT_TRUE(server->isOpen());

  server_cb.on_data = [&](buffer::Buffer& data) {
    server_cb.received += data.toString();
    data.drain(data.length());
  };
  server_cb.on_event = [&](ConnectionEvent) { dispatcher_.exit(); };
  server->readDisable(false);
  dispatcher_.run();
  EXPECT_EQ(server_cb.received, "abc");
  ASSERT_EQ(server_cb.events.size(), 1u);
  EXPECT_EQ(server_cb.events[0], ConnectionEvent::kRemoteClose);
}

TEST_F(SocketConnectionTest, FileRangesGoOutWithSendfile) {
  const std::string content = pattern(3 << 20);
  char path[] = "/tmp/socket_connection_test.XXXXXX";
  const int file_fd = mkstemp(path);
  ASSERT_GE(file_fd, 0);
  unlink(path);
  ASSERT_EQ(::write(file_fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  auto file = std::make_shared<const buffer::FileHandle>(file_fd);

  connectPair();
  buffer::Buffer data;
  data.add("head:");
  ASSERT_TRUE(data.addFileRange(file, 1000, content.size() - 2000, /*sendfile=*/true));
  data.add(":tail");
  server_->write(data);
  const std::string expected = "head:" + content.substr(1000, content.size() - 2000) + ":tail";
  client_cb_.on_data = [&](buffer::Buffer&) {
    if (client_cb_.received.size() >= expected.size()) dispatcher_.exit();
  };
  dispatcher_.run();
  EXPECT_TRUE(client_cb_.received == expected);
}

TEST_F(SocketConnectionTest, DestroyingTheConnectionInsideItsCallbackIsSafe) {
  const int raw = rawClient();
  auto server = acceptServer();
  Recorder server_cb;
  server->setCallbacks(server_cb);
  server_cb.on_data = [&](buffer::Buffer&) {
    buffer::Buffer reply;
    reply.add("bye");
    server->write(reply);
    server.reset();  // the owner lets go while the connection's handler runs
    dispatcher_.exit();
  };
  ASSERT_EQ(::write(raw, "x", 1), 1);
  dispatcher_.run();
  EXPECT_EQ(server, nullptr);
  ::close(raw);
}

}  // namespace
}  // namespace modgate::network
