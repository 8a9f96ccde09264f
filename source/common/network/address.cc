#include "source/common/network/address.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace modgate::network {

bool splitHostPort(std::string_view text, std::string& host, std::string& port) {
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    host = std::string(text.substr(1, close - 1));
    port = std::string(text.substr(close + 2));
    return true;
  }
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || text.find(':') != colon) return false;
  host = std::string(text.substr(0, colon));
  port = std::string(text.substr(colon + 1));
  return true;
}

absl::StatusOr<Address> parseAddress(std::string_view text) {
  std::string host, port_text;
  uint32_t port;
  if (!splitHostPort(text, host, port_text) || !absl::SimpleAtoi(port_text, &port) ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid address \"", std::string(text), "\": want ip:port or [ipv6]:port"));
  }
  Address address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    address.length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    address.length = sizeof(sockaddr_in6);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid address \"", std::string(text), "\": host must be a numeric IP"));
  }
  return address;
}

std::string addressToString(const sockaddr* address) {
  char host[INET6_ADDRSTRLEN] = {0};
  if (address->sa_family == AF_INET) {
    auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
    return absl::StrCat(host, ":", ntohs(v4->sin_port));
  }
  if (address->sa_family == AF_INET6) {
    auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
    return absl::StrCat("[", host, "]:", ntohs(v6->sin6_port));
  }
  return "unknown";
}

std::string Address::toString() const { return addressToString(sockAddr()); }

}  // namespace modgate::network
