#include "source/goproxy/url_path.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "source/goproxy/go_quote.h"
#include "source/goproxy/string_util.h"

namespace modgate::goproxy {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool KeepRaw(char c) {
  if (absl::ascii_isalnum(c)) return true;
  constexpr std::string_view kSafe = "/-._~!$&+,;=@";
  return kSafe.find(c) != std::string_view::npos;
}

}  // namespace

absl::StatusOr<std::string> DecodeUrlPath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') {
      out.push_back(path[i]);
      continue;
    }
    const int hi = i + 1 < path.size() ? HexValue(path[i + 1]) : -1;
    const int lo = i + 2 < path.size() ? HexValue(path[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      // Like Go's net/url: quote the (at most three byte) bad escape.
      return absl::InvalidArgumentError(
          Concat({"invalid URL escape ", GoQuote(path.substr(i, 3))}));
    }
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '/') return absl::InvalidArgumentError("escaped slash (%2F) in path");
    out.push_back(c);
    i += 2;
  }
  return out;
}

std::string EncodeUrlPath(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (KeepRaw(c)) {
      out.push_back(c);
    } else {
      const auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    }
  }
  return out;
}

}  // namespace modgate::goproxy
