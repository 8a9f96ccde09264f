#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "source/common/event/dispatcher_impl.h"
#include "source/upstream/http_client.h"
#include "test/upstream/child_server.h"

namespace modgate::upstream::testing {

// A directory under TEST_TMPDIR (or /tmp) unique to this process.
std::string tempDir();

// test/upstream/test_origin.py running as a child process on 127.0.0.1.
class OriginProcess {
 public:
  struct Options {
    std::string cert;  // PEM; with `key`, serve TLS
    std::string key;
    std::string alpn;  // "h2,http/1.1"
  };
  // nullptr if it did not come up within 10 s.
  static std::unique_ptr<OriginProcess> start(const Options& options);

  uint16_t port() const { return port_; }

 private:
  OriginProcess(std::unique_ptr<ChildServer> process, uint16_t port)
      : process_(std::move(process)), port_(port) {}
  std::unique_ptr<ChildServer> process_;
  uint16_t port_;
};

// A CA, a server certificate for DNS:localhost signed by it, and an
// unrelated second CA, made with the openssl CLI (a separate process: no
// OpenSSL in ours).
struct TestCerts {
  std::string ca;        // PEM of the CA that signed `cert`
  std::string other_ca;  // PEM of an unrelated CA
  std::string cert;      // server certificate (SAN DNS:localhost)
  std::string key;
  static std::optional<TestCerts> generate();
};

// Runs the dispatcher's loop until `done()` or `timeout`; returns done().
bool runUntil(event::DispatcherImpl& dispatcher, const std::function<bool()>& done,
              std::chrono::milliseconds timeout = std::chrono::seconds(60));
// Runs the loop for `duration`.
void runFor(event::DispatcherImpl& dispatcher, std::chrono::milliseconds duration);

// Records everything a request reports.
class Collector : public ResponseCallbacks {
 public:
  void onResponseHeaders(std::unique_ptr<http::ResponseHeaders> headers, bool end_stream) override;
  void onResponseData(buffer::Buffer& data, bool end_stream) override;
  void onFailure(FailureReason reason, std::string_view detail) override;

  bool done() const { return complete || failed; }
  std::string header(std::string_view name) const;

  std::unique_ptr<http::ResponseHeaders> headers;
  std::string body;
  bool complete = false;
  bool failed = false;
  bool headers_end_stream = false;
  int data_calls = 0;
  // Every callback, whatever its kind.
  int callbacks = 0;
  int calls_after_done = 0;
  FailureReason reason = FailureReason::kReset;
  std::string detail;
  // Hooks run inside the callbacks (after recording).
  std::function<void()> on_headers;
  std::function<void(buffer::Buffer&)> on_data;
};

// True if a library matching `needle` is mapped into this process.
bool processMapsLibrary(std::string_view needle);

// Streams `size` bytes of test_origin.py's pattern from `path` to a consumer
// that takes at most 1 MiB, then stops reading (readDisable) until a timer
// has "written" it out; checks the pattern and that nothing piles up
// (gtest expectations).
void streamWithBackPressure(event::DispatcherImpl& dispatcher, HttpClient& client, const Url& base,
                            const std::string& path, size_t size);

}  // namespace modgate::upstream::testing
