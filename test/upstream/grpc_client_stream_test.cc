// modgate's gRPC client (GrpcClientStream over Http2ClientConnection, with
// a streaming request body and response trailers) against an independent
// server: Python's grpcio (grpc_echo_server.py) on 127.0.0.1.

#include "source/upstream/grpc_client_stream.h"

#include <google/protobuf/wrappers.pb.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/upstream/connector.h"
#include "source/upstream/http2_client_connection.h"
#include "source/upstream/threaded_dns_resolver.h"
#include "test/upstream/test_support.h"

namespace modgate::upstream {
namespace {

class Recorder : public GrpcClientStreamCallbacks {
 public:
  void onReceiveMessage(std::string message) override {
    google::protobuf::BytesValue value;
    EXPECT_TRUE(value.ParseFromString(message));
    messages.push_back(value.value());
  }
  void onRemoteClose(absl::Status status) override { closed = std::move(status); }
  std::vector<std::string> messages;
  std::optional<absl::Status> closed;
};

class Connected : public ConnectCallbacks {
 public:
  void onConnected(network::ConnectionPtr c) override { connection = std::move(c); }
  void onConnectFailure(FailureReason, std::string_view detail) override {
    error = std::string(detail);
  }
  network::ConnectionPtr connection;
  std::string error;
};

class GrpcClientStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (system("/usr/bin/python3 -c 'import grpc' 2>/dev/null") != 0) {
      GTEST_SKIP() << "python3-grpcio is not installed";
    }
    const char* tmp = std::getenv("TEST_TMPDIR");
    port_file_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/grpc_echo.port";
    unlink(port_file_.c_str());
    server_ = testing::ChildServer::start(
        {"/usr/bin/python3", "test/upstream/grpc_echo_server.py", port_file_},
        [this] { return (port_ = testing::readPortFile(port_file_)) != 0; });
    ASSERT_NE(server_, nullptr) << "the Python gRPC server did not start";

    Connected connected;
    Connector connector(dispatcher_, resolver_, nullptr, "no TLS",
                        Origin{"http", "127.0.0.1", port_}, std::chrono::seconds(5), connected);
    connector.start();
    ASSERT_TRUE(testing::runUntil(
        dispatcher_, [&] { return connected.connection != nullptr || !connected.error.empty(); }));
    ASSERT_NE(connected.connection, nullptr) << connected.error;
    connection_ = std::make_unique<Http2ClientConnection>(std::move(connected.connection), "http",
                                                          std::chrono::seconds(60));
  }

  void TearDown() override {
    stream_.reset();
    connection_.reset();
    testing::runFor(dispatcher_, std::chrono::milliseconds(0));
    server_.reset();
  }

  void startCall() {
    stream_ = std::make_unique<GrpcClientStream>(dispatcher_, connection_->newStream(), recorder_);
    stream_->start("127.0.0.1:" + std::to_string(port_), "/modgate.test.Echo/Echo");
  }

  void send(const std::string& text) {
    google::protobuf::BytesValue value;
    value.set_value(text);
    ASSERT_TRUE(stream_->sendMessage(value));
  }

  event::DispatcherImpl dispatcher_{"test"};
  ThreadedDnsResolver resolver_{dispatcher_};
  std::string port_file_;
  std::unique_ptr<testing::ChildServer> server_;
  uint16_t port_ = 0;
  std::unique_ptr<Http2ClientConnection> connection_;
  std::unique_ptr<GrpcClientStream> stream_;
  Recorder recorder_;
};

TEST_F(GrpcClientStreamTest, MessagesStreamBothWaysOverOneCall) {
  startCall();
  send("one");
  ASSERT_TRUE(testing::runUntil(dispatcher_, [&] { return recorder_.messages.size() == 1; }));
  // The request body is still open: later messages go on the same stream.
  send("two");
  send("three");
  ASSERT_TRUE(testing::runUntil(dispatcher_, [&] { return recorder_.messages.size() == 3; }));
  EXPECT_EQ(recorder_.messages, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_FALSE(recorder_.closed.has_value());
  // A message larger than the stream window and several DATA frames.
  send("big:3000000");
  ASSERT_TRUE(testing::runUntil(dispatcher_, [&] { return recorder_.messages.size() == 4; }));
  EXPECT_EQ(recorder_.messages[3].size(), 3000000u);
}

TEST_F(GrpcClientStreamTest, TheServersStatusArrivesInTrailers) {
  startCall();
  send("hello");
  send("fail:5:no such thing %");
  ASSERT_TRUE(testing::runUntil(dispatcher_, [&] { return recorder_.closed.has_value(); }));
  EXPECT_EQ(recorder_.messages, (std::vector<std::string>{"hello"}));
  EXPECT_EQ(recorder_.closed->code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(recorder_.closed->message(), "no such thing %");
  EXPECT_FALSE(stream_->open());
  EXPECT_FALSE(stream_->sendMessage(google::protobuf::BytesValue()));
}

TEST_F(GrpcClientStreamTest, AnUnknownMethodIsUnimplemented) {
  stream_ = std::make_unique<GrpcClientStream>(dispatcher_, connection_->newStream(), recorder_);
  stream_->start("127.0.0.1:" + std::to_string(port_), "/modgate.test.Echo/Nope");
  send("x");
  ASSERT_TRUE(testing::runUntil(dispatcher_, [&] { return recorder_.closed.has_value(); }));
  EXPECT_EQ(recorder_.closed->code(), absl::StatusCode::kUnimplemented);
}

TEST_F(GrpcClientStreamTest, TheServerGoingAwayIsUnavailable) {
  startCall();
  send("one");
  ASSERT_TRUE(testing::runUntil(dispatcher_, [&] { return recorder_.messages.size() == 1; }));
  server_->crash();
  ASSERT_TRUE(testing::runUntil(dispatcher_, [&] { return recorder_.closed.has_value(); }));
  EXPECT_EQ(recorder_.closed->code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace modgate::upstream
