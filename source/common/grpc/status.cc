#include "source/common/grpc/status.h"

#include "absl/strings/ascii.h"

namespace modgate::grpc {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool isGrpcContentType(std::string_view content_type) {
  if (content_type.size() < kContentType.size()) return false;
  for (size_t i = 0; i < kContentType.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(content_type[i])) != kContentType[i]) {
      return false;
    }
  }
  const std::string_view rest = content_type.substr(kContentType.size());
  return rest.empty() || rest[0] == '+' || rest[0] == ';';
}

std::string percentEncodeMessage(std::string_view message) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  encoded.reserve(message.size());
  for (const char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte <= 0x7E && byte != '%') {
      encoded.push_back(c);
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[byte >> 4]);
      encoded.push_back(kHex[byte & 0xF]);
    }
  }
  return encoded;
}

std::string percentDecodeMessage(std::string_view encoded) {
  std::string message;
  message.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size()) {
      const int high = hexValue(encoded[i + 1]);
      const int low = hexValue(encoded[i + 2]);
      if (high >= 0 && low >= 0) {
        message.push_back(static_cast<char>(high << 4 | low));
        i += 2;
        continue;
      }
    }
    message.push_back(encoded[i]);
  }
  return message;
}

absl::StatusCode parseStatusCode(std::string_view value) {
  // At most two digits: the codes are 0..16.
  if (value.empty() || value.size() > 2) return absl::StatusCode::kUnknown;
  int code = 0;
  for (const char c : value) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return absl::StatusCode::kUnknown;
    code = code * 10 + (c - '0');
  }
  return code <= 16 ? static_cast<absl::StatusCode>(code) : absl::StatusCode::kUnknown;
}

absl::StatusCode statusCodeFromHttpStatus(int http_status) {
  switch (http_status) {
    case 400:
      return absl::StatusCode::kInternal;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kUnimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kUnknown;
  }
}

absl::Status statusFromTrailers(std::string_view grpc_status, std::string_view grpc_message) {
  return absl::Status(parseStatusCode(grpc_status), percentDecodeMessage(grpc_message));
}

}  // namespace modgate::grpc
