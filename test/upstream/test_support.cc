#include "test/upstream/test_support.h"

#include <event2/event.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace modgate::upstream::testing {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

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
  pid_t pid = fork();
  if (pid < 0) return nullptr;
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  for (int i = 0; i < 1000; ++i) {
    std::string text = readFile(port_file);
    if (!text.empty())
      return std::unique_ptr<OriginProcess>(new OriginProcess(pid, std::stoi(text)));
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return nullptr;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return nullptr;
}

OriginProcess::~OriginProcess() {
  kill(pid_, SIGTERM);
  for (int i = 0; i < 300; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
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
  if (done()) ++calls_after_done;
  headers = std::move(response_headers);
  headers_end_stream = end_stream;
  if (end_stream) complete = true;
  if (on_headers) on_headers();
}

void Collector::onResponseData(buffer::Buffer& data, bool end_stream) {
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

}  // namespace modgate::upstream::testing
