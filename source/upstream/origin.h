#pragma once

#include <cstdint>
#include <string>

#include "source/upstream/http_client.h"

namespace modgate::upstream {

// scheme + host + port: what a connection is bound to, and the pool key.
struct Origin {
  std::string scheme;  // "http" or "https"
  std::string host;    // name or IP literal (IPv6 without brackets)
  uint16_t port = 0;

  static Origin fromUrl(const Url& url) { return Origin{url.scheme, url.host, url.port}; }
  bool tls() const { return scheme == "https"; }
  // "https://host:443", unique per origin.
  std::string key() const;
  // The Host header value (port only when not the default).
  std::string authority() const;
  bool operator==(const Origin& other) const {
    return scheme == other.scheme && host == other.host && port == other.port;
  }
};

}  // namespace modgate::upstream
