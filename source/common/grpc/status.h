#pragma once

// gRPC's HTTP/2 status conventions (grpc/grpc doc/PROTOCOL-HTTP2.md): the
// content type that marks a gRPC request, the `grpc-status` / `grpc-message`
// trailers, and the status a client infers from a non-gRPC HTTP answer.
// gRPC's status codes are absl::StatusCode's (same names, same numbers).

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace modgate::grpc {

inline constexpr std::string_view kContentType = "application/grpc";
inline constexpr std::string_view kStatusHeader = "grpc-status";
inline constexpr std::string_view kMessageHeader = "grpc-message";

// "application/grpc", optionally followed by "+proto", "+json", ... or
// ";params" (case-insensitive, as HTTP media types are).
bool isGrpcContentType(std::string_view content_type);

// grpc-message is percent-encoded: bytes outside printable ASCII
// (0x20..0x7E) and '%' itself become %XX (upper-case hex); the result is a
// valid HTTP/2 header value for any UTF-8 input.
std::string percentEncodeMessage(std::string_view message);

// The inverse; a malformed %-sequence is kept literally, as gRPC requires
// ("decode ... as much as possible, do not fail").
std::string percentDecodeMessage(std::string_view encoded);

// A received grpc-status value: a decimal code; anything else (empty,
// non-digits, out of range) is UNKNOWN.
absl::StatusCode parseStatusCode(std::string_view value);

// The status a gRPC client reports for an HTTP response without
// grpc-status (a proxy or a non-gRPC server answered):
// 400 INTERNAL, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED,
// 404 UNIMPLEMENTED, 429/502/503/504 UNAVAILABLE, anything else UNKNOWN.
absl::StatusCode statusCodeFromHttpStatus(int http_status);

// Builds a status from received trailer values (grpc-message still encoded).
absl::Status statusFromTrailers(std::string_view grpc_status, std::string_view grpc_message);

}  // namespace modgate::grpc
