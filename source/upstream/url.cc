#include <arpa/inet.h>

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "source/upstream/http_client.h"
#include "source/upstream/string_view_compat.h"

namespace modgate::upstream {
namespace {

bool validHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

}  // namespace

absl::StatusOr<Url> Url::parse(std::string_view text) {
  Url url;
  size_t colon = text.find("://");
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("URL without scheme: ", toAbsl(text)));
  }
  url.scheme = absl::AsciiStrToLower(toAbsl(text.substr(0, colon)));
  std::string_view rest = text.substr(colon + 3);
  if (url.scheme == "file") {
    // file:///DIR: a GOPROXY file tree; the path is the directory.
    if (rest.empty() || rest.front() != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat("file URL must be file:///absolute/dir: ", toAbsl(text)));
    }
    while (rest.size() > 1 && rest.back() == '/') rest.remove_suffix(1);
    url.path_prefix = rest == "/" ? std::string() : std::string(rest);
    return url;
  }
  if (url.scheme != "http" && url.scheme != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat("URL scheme must be http, https or file: ", toAbsl(text)));
  }
  size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (path.find_first_of("?#") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("base URL may not have a query: ", toAbsl(text)));
  }
  if (authority.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("URL user info is not supported: ", toAbsl(text)));
  }
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("bad IPv6 literal: ", toAbsl(text)));
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return absl::InvalidArgumentError(absl::StrCat("bad URL: ", toAbsl(text)));
      port = after.substr(1);
    }
    in6_addr v6;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &v6) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("bad IPv6 literal: ", toAbsl(text)));
    }
  } else {
    size_t port_colon = authority.rfind(':');
    host = authority.substr(0, port_colon);
    if (port_colon != std::string_view::npos) port = authority.substr(port_colon + 1);
    for (char c : host) {
      if (!validHostChar(c)) {
        return absl::InvalidArgumentError(absl::StrCat("bad host in URL: ", toAbsl(text)));
      }
    }
  }
  if (host.empty())
    return absl::InvalidArgumentError(absl::StrCat("URL without host: ", toAbsl(text)));
  url.host = absl::AsciiStrToLower(toAbsl(host));
  if (port.empty()) {
    url.port = url.tls() ? 443 : 80;
  } else {
    uint32_t value = 0;
    if (port.size() > 5 || !absl::SimpleAtoi(toAbsl(port), &value) || value == 0 || value > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("bad port in URL: ", toAbsl(text)));
    }
    url.port = static_cast<uint16_t>(value);
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.path_prefix = std::string(path);
  return url;
}

std::string Url::authority() const {
  if (file()) return "";
  std::string out = host.find(':') != std::string::npos ? absl::StrCat("[", host, "]") : host;
  if (port != (tls() ? 443 : 80)) absl::StrAppend(&out, ":", port);
  return out;
}

std::string_view failureReasonName(FailureReason reason) {
  switch (reason) {
    case FailureReason::kConnectFailure:
      return "connect_failure";
    case FailureReason::kTlsFailure:
      return "tls_failure";
    case FailureReason::kDnsFailure:
      return "dns_failure";
    case FailureReason::kReset:
      return "reset";
    case FailureReason::kTimeout:
      return "timeout";
    case FailureReason::kProtocolError:
      return "protocol_error";
    case FailureReason::kTooManyRedirects:
      return "too_many_redirects";
    case FailureReason::kOverflow:
      return "overflow";
    case FailureReason::kPoolOverflow:
      return "pool_overflow";
  }
  return "unknown";
}

}  // namespace modgate::upstream
