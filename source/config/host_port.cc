#include "source/config/host_port.h"

#include <arpa/inet.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace modgate::config {
namespace {

bool IsIpv4(absl::string_view host) {
  // inet_pton accepts exactly four dotted decimal parts, no leading zeros.
  in_addr addr;
  return inet_pton(AF_INET, std::string(host).c_str(), &addr) == 1;
}

bool IsIpv6(absl::string_view host) {
  in6_addr addr;
  return inet_pton(AF_INET6, std::string(host).c_str(), &addr) == 1;
}

bool IsHostname(absl::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (absl::string_view label : absl::StrSplit(host, '.')) {
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      // '_' is not valid in DNS hostnames but is common in container and
      // compose service names, which resolve fine.
      if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return false;
    }
  }
  return true;
}

bool LooksNumeric(absl::string_view host) {
  for (char c : host) {
    if (!absl::ascii_isdigit(c) && c != '.') return false;
  }
  return true;
}

}  // namespace

bool IsValidHost(absl::string_view host) {
  if (host.find(':') != absl::string_view::npos) return IsIpv6(host);
  // "1.2.3" or "300.1.1.1" must not sneak through as hostnames.
  if (LooksNumeric(host)) return IsIpv4(host);
  return IsHostname(host);
}

absl::StatusOr<uint16_t> ParsePort(absl::string_view text) {
  uint32_t port = 0;
  bool digits = !text.empty() && text.size() <= 5;
  for (char c : text) digits = digits && absl::ascii_isdigit(c);
  if (!digits || !absl::SimpleAtoi(text, &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid port \"", text, "\" (expected 1..65535)"));
  }
  return static_cast<uint16_t>(port);
}

absl::StatusOr<HostPort> ParseHostPort(absl::string_view address) {
  absl::string_view host;
  absl::string_view port;
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid address \"", address, "\": missing ']'"));
    }
    host = address.substr(1, close - 1);
    absl::string_view rest = address.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid address \"", address, "\": expected host:port"));
    }
    port = rest.substr(1);
    if (!IsIpv6(host)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid address \"", address, "\": bad IPv6 address \"", host, "\""));
    }
  } else {
    size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid address \"", address, "\": expected host:port"));
    }
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.find(':') != absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid address \"", address, "\": IPv6 addresses need brackets, e.g. [::1]:8080"));
    }
    if (host.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid address \"", address, "\": missing host (use 0.0.0.0 or [::] for all)"));
    }
    if (!IsValidHost(host)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid address \"", address, "\": bad host \"", host, "\""));
    }
  }
  absl::StatusOr<uint16_t> parsed_port = ParsePort(port);
  if (!parsed_port.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid address \"", address, "\": ", parsed_port.status().message()));
  }
  return HostPort{std::string(host), *parsed_port};
}

}  // namespace modgate::config
