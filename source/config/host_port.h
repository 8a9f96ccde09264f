#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace modgate::config {

// A parsed "host:port" socket address.
struct HostPort {
  // IPv4 literal, IPv6 literal without brackets, or hostname.
  std::string host;
  uint16_t port = 0;
};

// Parses "host:port": host is an IPv4 address ("127.0.0.1"), a bracketed
// IPv6 address ("[::1]") or a hostname; port is 1..65535.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view address);

// True for a dotted-quad IPv4 address, an (unbracketed) IPv6 address, or a
// DNS hostname (labels of letters, digits, '-' and '_', 1..63 characters,
// not starting or ending with '-', 253 characters at most).
bool IsValidHost(absl::string_view host);

// Parses a decimal port number 1..65535.
absl::StatusOr<uint16_t> ParsePort(absl::string_view text);

}  // namespace modgate::config
