#include "source/common/grpc/framing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/envoy/service/discovery/v3/discovery.pb.h"
#include "api/modgate/config/v1/cluster.pb.h"
#include "source/common/buffer/buffer.h"

namespace modgate::grpc {
namespace {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

std::string framed(std::string_view message) {
  buffer::Buffer out;
  encodeFrame(message, out);
  return out.toString();
}

TEST(FramingTest, EncodesFlagAndBigEndianLength) {
  EXPECT_EQ(framed(""), std::string("\0\0\0\0\0", 5));
  EXPECT_EQ(framed("abc"), std::string("\0\0\0\0\3abc", 8));
  const std::string big(0x010203, 'x');
  const std::string frame = framed(big);
  ASSERT_EQ(frame.size(), 5 + big.size());
  EXPECT_EQ(frame.substr(0, 5), std::string("\0\0\x01\x02\x03", 5));
}

TEST(FramingTest, DecodesByteByByte) {
  buffer::Buffer wire;
  encodeFrame("hello", wire);
  encodeFrame("", wire);
  encodeFrame("world!", wire);
  const std::string bytes = wire.toString();

  FrameDecoder decoder;
  std::vector<std::string> messages;
  for (const char c : bytes) {
    buffer::Buffer one;
    one.add(&c, 1);
    ASSERT_TRUE(decoder.decode(one, messages).ok());
    EXPECT_EQ(one.length(), 0u);
  }
  EXPECT_TRUE(decoder.atMessageBoundary());
  EXPECT_EQ(messages, (std::vector<std::string>{"hello", "", "world!"}));
}

TEST(FramingTest, KeepsPartialFrameAcrossCalls) {
  buffer::Buffer wire;
  encodeFrame("first", wire);
  encodeFrame("second", wire);
  std::string bytes = wire.toString();

  FrameDecoder decoder;
  std::vector<std::string> messages;
  buffer::Buffer chunk;
  chunk.add(bytes.substr(0, 12));  // "first" plus 2 bytes of the next header
  ASSERT_TRUE(decoder.decode(chunk, messages).ok());
  EXPECT_EQ(messages, (std::vector<std::string>{"first"}));
  EXPECT_FALSE(decoder.atMessageBoundary());
  chunk.add(bytes.substr(12));
  ASSERT_TRUE(decoder.decode(chunk, messages).ok());
  EXPECT_EQ(messages, (std::vector<std::string>{"first", "second"}));
  EXPECT_TRUE(decoder.atMessageBoundary());
}

TEST(FramingTest, RejectsOversizedMessageFromItsHeader) {
  FrameDecoder decoder(16);
  std::vector<std::string> messages;
  buffer::Buffer input;
  encodeFrame(std::string(16, 'a'), input);  // exactly the limit: fine
  ASSERT_TRUE(decoder.decode(input, messages).ok());
  ASSERT_EQ(messages.size(), 1u);

  // Only the header of a 17-byte message has arrived: rejected already.
  input.add(std::string("\0\0\0\0\x11", 5));
  const absl::Status status = decoder.decode(input, messages);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "gRPC message of 17 bytes exceeds the maximum of 16");
  EXPECT_EQ(input.length(), 0u);

  // The decoder stays failed: later bytes are drained unread.
  encodeFrame("x", input);
  EXPECT_EQ(decoder.decode(input, messages).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(input.length(), 0u);
  EXPECT_EQ(messages.size(), 1u);
}

TEST(FramingTest, RejectsCompressedAndInvalidFlags) {
  std::vector<std::string> messages;
  {
    FrameDecoder decoder;
    buffer::Buffer input;
    input.add(std::string("\1\0\0\0\1z", 6));
    EXPECT_EQ(decoder.decode(input, messages).code(), absl::StatusCode::kUnimplemented);
  }
  {
    FrameDecoder decoder;
    buffer::Buffer input;
    input.add(std::string("\x80\0\0\0\0", 5));
    EXPECT_EQ(decoder.decode(input, messages).code(), absl::StatusCode::kInternal);
  }
  EXPECT_TRUE(messages.empty());
}

// The xDS messages round-trip through the framing with Envoy's field
// numbers: a DiscoveryRequest's type_url is field 4, error_detail field 6.
TEST(FramingTest, DiscoveryMessagesRoundTrip) {
  DiscoveryRequest request;
  request.set_type_url("type.googleapis.com/modgate.config.v1.Cluster");
  request.set_response_nonce("7");
  request.mutable_node()->set_id("pod-1");
  request.mutable_error_detail()->set_code(3);
  request.mutable_error_detail()->set_message("clusters[0].name: required");

  buffer::Buffer wire;
  encodeMessage(request, wire);
  FrameDecoder decoder;
  std::vector<std::string> messages;
  ASSERT_TRUE(decoder.decode(wire, messages).ok());
  ASSERT_EQ(messages.size(), 1u);
  // Field 4, wire type 2 (tag 0x22), length 45, then the URL.
  EXPECT_NE(messages[0].find("\x22\x2dtype.googleapis.com/"), std::string::npos);
  DiscoveryRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(messages[0]));
  EXPECT_EQ(parsed.node().id(), "pod-1");
  EXPECT_EQ(parsed.error_detail().message(), "clusters[0].name: required");

  DiscoveryResponse response;
  modgate::config::v1::Cluster cluster;
  cluster.set_name("proxy");
  response.add_resources()->PackFrom(cluster);
  response.set_nonce("8");
  encodeMessage(response, wire);
  messages.clear();
  ASSERT_TRUE(decoder.decode(wire, messages).ok());
  DiscoveryResponse parsed_response;
  ASSERT_TRUE(parsed_response.ParseFromString(messages.at(0)));
  EXPECT_EQ(parsed_response.resources(0).type_url(),
            "type.googleapis.com/modgate.config.v1.Cluster");
  modgate::config::v1::Cluster unpacked;
  ASSERT_TRUE(parsed_response.resources(0).UnpackTo(&unpacked));
  EXPECT_EQ(unpacked.name(), "proxy");
}

}  // namespace
}  // namespace modgate::grpc
