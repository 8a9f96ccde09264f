#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "test/upstream/child_server.h"

namespace modgate::upstream::testing {

// A real HTTP/2 origin for the client tests: nginx (Debian's, built with
// the http_v2 module) as a child process on 127.0.0.1 with a config under
// TEST_TMPDIR, serving files from docroot(). Every request is logged as
// "<connection serial> <request serial on it> <protocol> <status> <uri>"
// so tests can count connections at the server.
class NginxOrigin {
 public:
  struct Options {
    bool tls = true;
    bool http2 = true;  // `listen ... http2`: ALPN h2 with TLS, h2c without
    std::string cert;
    std::string key;
    // keepalive_requests: after this many requests nginx sends GOAWAY (h2)
    // or closes (http/1.1).
    int keepalive_requests = 1000;
    // Extra directives inside server {}.
    std::string server_extra;
  };

  static bool available();
  // nullptr if nginx did not come up within 10 s (the error log is printed).
  static std::unique_ptr<NginxOrigin> start(const Options& options);
  ~NginxOrigin();

  uint16_t port() const { return port_; }
  const std::string& docroot() const { return docroot_; }

  struct LogLine {
    std::string connection;
    int request = 0;
    std::string protocol;
    int status = 0;
    std::string uri;
  };
  std::vector<LogLine> accessLog() const;
  size_t distinctConnections() const;

 private:
  NginxOrigin() = default;
  std::unique_ptr<ChildServer> process_;
  uint16_t port_ = 0;
  std::string prefix_;
  std::string docroot_;
};

// `size` bytes of the test pattern (byte i is i % 251), as test_origin.py's
// /big serves it.
std::string patternBytes(size_t size);
// Writes `content` to `path`; false on error.
bool writeFile(const std::string& path, const std::string& content);

}  // namespace modgate::upstream::testing
