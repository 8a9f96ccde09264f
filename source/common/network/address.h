#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace modgate::network {

// A numeric socket address ("127.0.0.1:8080", "[::1]:8080").
struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr* sockAddr() const { return reinterpret_cast<const sockaddr*>(&storage); }
  std::string toString() const;
};

// Parses a numeric "ip:port" or "[ipv6]:port".
absl::StatusOr<Address> parseAddress(std::string_view text);

// The "ip:port" text of a socket address.
std::string addressToString(const sockaddr* address);

// Splits "host:port" / "[v6]:port" into host and port text.
bool splitHostPort(std::string_view text, std::string& host, std::string& port);

}  // namespace modgate::network
