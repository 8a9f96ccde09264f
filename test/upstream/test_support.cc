#include "test/upstream/test_support.h"

#include <event2/event.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"

namespace modgate::upstream::testing {
namespace {

int counter = 0;

}  // namespace

std::string tempDir() {
  static std::string dir = [] {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string path =
        std::string(base != nullptr ? base : "/tmp") + "/upstream-" + std::to_string(getpid());
    mkdir(path.c_str(), 0700);
    return path;
  }();
  return dir;
}

std::unique_ptr<OriginProcess> OriginProcess::start(const Options& options) {
  std::string port_file = tempDir() + "/port-" + std::to_string(++counter);
  unlink(port_file.c_str());
  std::vector<std::string> args = {"/usr/bin/python3", "test/upstream/test_origin.py",
                                   "--port-file", port_file};
  if (!options.cert.empty()) {
    args.insert(args.end(), {"--cert", options.cert, "--key", options.key});
  }
  if (!options.alpn.empty()) args.insert(args.end(), {"--alpn", options.alpn});
  std::unique_ptr<ChildServer> process =
      ChildServer::start(args, [&port_file] { return readPortFile(port_file) != 0; });
  if (process == nullptr) return nullptr;
  return std::unique_ptr<OriginProcess>(
      new OriginProcess(std::move(process), readPortFile(port_file)));
}

std::optional<TestCerts> TestCerts::generate() {
  std::string dir = tempDir() + "/certs-" + std::to_string(++counter);
  mkdir(dir.c_str(), 0700);
  std::string script =
      "set -e; cd '" + dir + "'\n" +
      "key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out \"$1\" "
      "2>/dev/null; }\n"
      "key ca.key; key other.key; key server.key\n"
      "openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj /CN=modgate-test-ca "
      "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign\n"
      "openssl req -x509 -new -key other.key -out other.pem -days 2 -subj /CN=other-ca "
      "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign\n"
      "openssl req -new -key server.key -out server.csr -subj /CN=localhost\n"
      "printf 'subjectAltName=DNS:localhost\\nbasicConstraints=CA:FALSE\\n"
      "extendedKeyUsage=serverAuth\\nkeyUsage=digitalSignature\\n' > ext.cnf\n"
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out "
      "server.pem -days 2 -extfile ext.cnf 2>/dev/null\n";
  std::string script_file = dir + "/make.sh";
  std::ofstream(script_file) << script;
  if (std::system(("sh '" + script_file + "' >'" + dir + "/make.log' 2>&1").c_str()) != 0) {
    return std::nullopt;
  }
  return TestCerts{dir + "/ca.pem", dir + "/other.pem", dir + "/server.pem", dir + "/server.key"};
}

bool runUntil(event::DispatcherImpl& dispatcher, const std::function<bool()>& done,
              std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // A ticking timer bounds each loop pass.
  event::TimerPtr tick;
  tick = dispatcher.createTimer([&tick] { tick->enableTimer(std::chrono::milliseconds(5)); });
  tick->enableTimer(std::chrono::milliseconds(5));
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    event_base_loop(&dispatcher.base(), EVLOOP_ONCE);
  }
  // Let deferred deletions run.
  event_base_loop(&dispatcher.base(), EVLOOP_NONBLOCK);
  return done();
}

void runFor(event::DispatcherImpl& dispatcher, std::chrono::milliseconds duration) {
  auto deadline = std::chrono::steady_clock::now() + duration;
  runUntil(
      dispatcher, [deadline] { return std::chrono::steady_clock::now() >= deadline; },
      duration + std::chrono::seconds(1));
}

void Collector::onResponseHeaders(std::unique_ptr<http::ResponseHeaders> response_headers,
                                  bool end_stream) {
  ++callbacks;
  if (done()) ++calls_after_done;
  headers = std::move(response_headers);
  headers_end_stream = end_stream;
  if (end_stream) complete = true;
  if (on_headers) on_headers();
}

void Collector::onResponseData(buffer::Buffer& data, bool end_stream) {
  ++callbacks;
  if (done()) ++calls_after_done;
  ++data_calls;
  if (on_data) {
    on_data(data);
  } else {
    body += data.toString();
    data.drain(data.length());
  }
  if (end_stream) complete = true;
}

void Collector::onFailure(FailureReason failure, std::string_view text) {
  ++callbacks;
  if (done()) ++calls_after_done;
  failed = true;
  reason = failure;
  detail = std::string(text);
}

std::string Collector::header(std::string_view name) const {
  if (headers == nullptr) return "";
  const std::string* value = headers->headers.get(name);
  return value == nullptr ? "" : *value;
}

bool processMapsLibrary(std::string_view needle) {
  return readFile("/proc/self/maps").find(needle) != std::string::npos;
}

// Streams 50 MiB to a consumer that takes at most 1 MiB at a time and then
// stops reading until a timer "writes it out": nothing may pile up.
void streamWithBackPressure(event::DispatcherImpl& dispatcher, HttpClient& client, const Url& base,
                            const std::string& path, size_t size) {
  Collector c;
  size_t pending = 0;  // taken but not yet "written"
  size_t received = 0;
  size_t max_offered = 0;
  size_t max_pending = 0;
  int pauses = 0;
  bool pattern_ok = true;
  UpstreamRequest* request = client.send(base, path, {}, c, {});
  event::TimerPtr writer;
  writer = dispatcher.createTimer([&] {
    pending = pending > 256 * 1024 ? pending - 256 * 1024 : 0;
    if (pending < 256 * 1024) {
      request->readDisable(false);
    } else {
      writer->enableTimer(std::chrono::milliseconds(1));
    }
  });
  c.on_data = [&](buffer::Buffer& data) {
    max_offered = std::max(max_offered, data.length());
    while (data.length() > 0 && pattern_ok) {
      iovec vec;
      data.peek(&vec, 1, data.length());
      const auto* bytes = static_cast<const uint8_t*>(vec.iov_base);
      for (size_t i = 0; i < vec.iov_len; ++i) {
        if (bytes[i] != (received + i) % 251) {
          pattern_ok = false;
          break;
        }
      }
      received += vec.iov_len;
      pending += vec.iov_len;
      data.drain(vec.iov_len);
    }
    max_pending = std::max(max_pending, pending);
    if (pending >= 1024 * 1024 && !c.complete) {
      ++pauses;
      request->readDisable(true);
      writer->enableTimer(std::chrono::milliseconds(1));
    }
  };
  rusage before;
  getrusage(RUSAGE_SELF, &before);
  ASSERT_TRUE(runUntil(
      dispatcher, [&] { return c.done(); }, std::chrono::seconds(120)));
  rusage after;
  getrusage(RUSAGE_SELF, &after);
  ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_TRUE(pattern_ok);
  EXPECT_EQ(received, size);
  EXPECT_GT(pauses, 10);
  // What the client hands over in one call stays small, and the consumer
  // never held more than its 1 MiB plus one delivery.
  EXPECT_LT(max_offered, 2u * 1024 * 1024);
  EXPECT_LT(max_pending, 3u * 1024 * 1024);
#if !defined(__SANITIZE_ADDRESS__)
  // Peak RSS grew by far less than the body (ASan's quarantine keeps freed
  // memory, so only without it).
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 16 * 1024) << "KiB";
#endif
}

}  // namespace modgate::upstream::testing
