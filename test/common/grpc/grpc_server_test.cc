// gRPC over modgate's own HTTP/2 server code, exercised by an independent
// client: Python's grpcio (grpc_echo_client.py) against a real listener on
// 127.0.0.1, plus curl for what a gRPC client never sends.

#include <google/protobuf/wrappers.pb.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/common/grpc/server_filter.h"
#include "source/common/grpc/service_table.h"
#include "source/common/http/conn_manager/http_listener.h"
#include "source/common/network/address.h"

namespace modgate::grpc {
namespace {

class EchoHandler : public ServerStreamHandler {
 public:
  EchoHandler(ServerStream& stream, std::atomic<int>& gone) : stream_(stream), gone_(gone) {}
  void onMessage(std::string bytes) override {
    google::protobuf::BytesValue request;
    if (!request.ParseFromString(bytes)) {
      stream_.finish(absl::InvalidArgumentError("not a BytesValue"));
      return;
    }
    std::string message = request.value();
    if (message.rfind("fail:", 0) == 0) {
      const size_t colon = message.find(':', 5);
      const int code = std::stoi(message.substr(5, colon - 5));
      stream_.finish(absl::Status(static_cast<absl::StatusCode>(code), message.substr(colon + 1)));
      return;
    }
    if (message.rfind("big:", 0) == 0) {
      google::protobuf::BytesValue response;
      response.set_value(std::string(std::stoul(message.substr(4)), 'b'));
      stream_.sendMessage(response);
      return;
    }
    stream_.sendMessage(request);
  }
  void onStreamGone() override { gone_++; }

 private:
  ServerStream& stream_;
  std::atomic<int>& gone_;
};

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    settings_.codec.max_request_body_bytes = 0;
    services_.addMethod("/modgate.test.Echo/Echo", [this](ServerStream& stream) {
      return std::make_unique<EchoHandler>(stream, gone_);
    });
    std::promise<uint16_t> port;
    thread_ = std::thread([this, &port] {
      auto listener = http::HttpListener::create(dispatcher_, *network::parseAddress("127.0.0.1:0"),
                                                 services_, settings_);
      if (!listener.ok()) {
        port.set_value(0);
        return;
      }
      const std::string local = (*listener)->localAddress().toString();
      port.set_value(static_cast<uint16_t>(std::stoi(local.substr(local.rfind(':') + 1))));
      dispatcher_.run();
      listener->reset();
    });
    port_ = port.get_future().get();
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    dispatcher_.exit();
    thread_.join();
  }

  // Runs the Python client case; returns its output, checks its exit code.
  std::string client(const std::string& test_case) {
    const std::string command = "timeout -k 2 90 /usr/bin/python3 " +
                                std::string("test/common/grpc/grpc_echo_client.py ") +
                                std::to_string(port_) + " " + test_case + " 2>&1";
    return run(command);
  }
  std::string run(const std::string& command) {
    std::string output;
    FILE* pipe = popen(command.c_str(), "r");
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
    exit_code_ = WEXITSTATUS(pclose(pipe));
    return output;
  }

  event::DispatcherImpl dispatcher_{"grpc-test"};
  http::ConnectionManagerSettings settings_;
  ServiceTable services_{4 * 1024 * 1024};
  std::atomic<int> gone_{0};
  std::thread thread_;
  uint16_t port_ = 0;
  int exit_code_ = -1;
};

TEST_F(GrpcServerTest, BidirectionalStreaming) {
  const std::string output = client("bidi");
  EXPECT_EQ(exit_code_, 0) << output;
  EXPECT_NE(output.find("done"), std::string::npos) << output;
}

TEST_F(GrpcServerTest, StatusInTrailersPercentEncoded) {
  const std::string output = client("status");
  EXPECT_EQ(exit_code_, 0) << output;
}

TEST_F(GrpcServerTest, TrailersOnlyErrors) {
  const std::string output = client("trailers_only");
  EXPECT_EQ(exit_code_, 0) << output;
}

TEST_F(GrpcServerTest, BigMessagesSpanFrames) {
  const std::string output = client("big");
  EXPECT_EQ(exit_code_, 0) << output;
}

TEST_F(GrpcServerTest, OversizedMessageIsResourceExhausted) {
  const std::string output = client("too_big");
  EXPECT_EQ(exit_code_, 0) << output;
}

TEST_F(GrpcServerTest, ClientCancelReachesTheHandler) {
  const std::string output = client("cancel");
  EXPECT_EQ(exit_code_, 0) << output;
  for (int i = 0; i < 200 && gone_.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(gone_.load(), 1);
}

TEST_F(GrpcServerTest, NonGrpcRequestsGetPlainHttpErrors) {
  const std::string url = "http://127.0.0.1:" + std::to_string(port_) + "/modgate.test.Echo/Echo";
  std::string output =
      run("curl -sS --http2-prior-knowledge -X POST -H 'content-type: application/json' -d '{}' "
          "-w '|%{http_code}' " +
          url + " 2>&1");
  EXPECT_EQ(output, "this is a gRPC endpoint: content-type must be application/grpc\n|415");
  output = run("curl -sS --http2-prior-knowledge -w '|%{http_code}' " + url + " 2>&1");
  EXPECT_EQ(output, "gRPC calls are POST requests\n|405");
  output =
      run("curl -sS --http1.1 -X POST -H 'content-type: application/grpc' -d '' "
          "-w '|%{http_code}' " +
          url + " 2>&1");
  EXPECT_EQ(output, "gRPC needs HTTP/2 (prior knowledge or h2c)\n|505");
}

// Trailers as HTTP/2 sees them: nghttp prints the trailer HEADERS frame
// after the DATA, and a trailers-only answer as a single HEADERS frame.
TEST_F(GrpcServerTest, TrailersOnTheWire) {
  const std::string body = std::string(testing::TempDir()) + "/grpc_body";
  // One framed BytesValue{value: "fail:5:gone%"}: field 1, 12 bytes.
  FILE* f = fopen(body.c_str(), "wb");
  fwrite(
      "\0\0\0\0\x0e\x0a\x0c"
      "fail:5:gone%",
      1, 19, f);
  fclose(f);
  const std::string output =
      run("timeout 20 nghttp -v -H 'content-type: application/grpc' -H 'te: trailers' -d " + body +
          " http://127.0.0.1:" + std::to_string(port_) + "/modgate.test.Echo/Echo 2>&1");
  EXPECT_NE(output.find("grpc-status: 5"), std::string::npos) << output;
  EXPECT_NE(output.find("grpc-message: gone%25"), std::string::npos) << output;
  EXPECT_NE(output.find("; END_STREAM | END_HEADERS"), std::string::npos) << output;
}

}  // namespace
}  // namespace modgate::grpc
