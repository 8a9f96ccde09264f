#include "source/common/grpc/status.h"

#include <gtest/gtest.h>

namespace modgate::grpc {
namespace {

TEST(GrpcStatusTest, ContentType) {
  EXPECT_TRUE(isGrpcContentType("application/grpc"));
  EXPECT_TRUE(isGrpcContentType("application/grpc+proto"));
  EXPECT_TRUE(isGrpcContentType("Application/GRPC;charset=utf-8"));
  EXPECT_FALSE(isGrpcContentType("application/grpcx"));
  EXPECT_FALSE(isGrpcContentType("application/grpc-web"));
  EXPECT_FALSE(isGrpcContentType("application/json"));
  EXPECT_FALSE(isGrpcContentType(""));
}

TEST(GrpcStatusTest, PercentEncodesMessage) {
  EXPECT_EQ(percentEncodeMessage("plain text: ok"), "plain text: ok");
  EXPECT_EQ(percentEncodeMessage("100%"), "100%25");
  EXPECT_EQ(percentEncodeMessage("a\nb\tc"), "a%0Ab%09c");
  EXPECT_EQ(percentEncodeMessage("caf\xc3\xa9"), "caf%C3%A9");
  EXPECT_EQ(percentEncodeMessage(std::string("\0\x7f", 2)), "%00%7F");
}

TEST(GrpcStatusTest, PercentDecodesLeniently) {
  EXPECT_EQ(percentDecodeMessage("a%0Ab%0a%25"), "a\nb\n%");
  EXPECT_EQ(percentDecodeMessage("caf%C3%A9"), "caf\xc3\xa9");
  // Malformed sequences are kept as they are.
  EXPECT_EQ(percentDecodeMessage("50%"), "50%");
  EXPECT_EQ(percentDecodeMessage("%4"), "%4");
  EXPECT_EQ(percentDecodeMessage("%zz%41"), "%zzA");
  const std::string any = "line 1\nline 2: 100% \xe2\x9c\x93";
  EXPECT_EQ(percentDecodeMessage(percentEncodeMessage(any)), any);
}

TEST(GrpcStatusTest, ParsesStatusCode) {
  EXPECT_EQ(parseStatusCode("0"), absl::StatusCode::kOk);
  EXPECT_EQ(parseStatusCode("3"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(parseStatusCode("16"), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(parseStatusCode("17"), absl::StatusCode::kUnknown);
  EXPECT_EQ(parseStatusCode("-1"), absl::StatusCode::kUnknown);
  EXPECT_EQ(parseStatusCode("+3"), absl::StatusCode::kUnknown);
  EXPECT_EQ(parseStatusCode(""), absl::StatusCode::kUnknown);
  EXPECT_EQ(parseStatusCode("ok"), absl::StatusCode::kUnknown);
}

TEST(GrpcStatusTest, HttpStatusMapping) {
  EXPECT_EQ(statusCodeFromHttpStatus(400), absl::StatusCode::kInternal);
  EXPECT_EQ(statusCodeFromHttpStatus(401), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(statusCodeFromHttpStatus(403), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(statusCodeFromHttpStatus(404), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(statusCodeFromHttpStatus(429), absl::StatusCode::kUnavailable);
  EXPECT_EQ(statusCodeFromHttpStatus(503), absl::StatusCode::kUnavailable);
  EXPECT_EQ(statusCodeFromHttpStatus(500), absl::StatusCode::kUnknown);
}

TEST(GrpcStatusTest, StatusFromTrailers) {
  const absl::Status status = statusFromTrailers("3", "clusters%5B0%5D: bad%0Aroutes: bad");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "clusters[0]: bad\nroutes: bad");
  EXPECT_TRUE(statusFromTrailers("0", "").ok());
}

}  // namespace
}  // namespace modgate::grpc
