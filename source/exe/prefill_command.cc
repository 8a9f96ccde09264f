#include "source/exe/prefill_command.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "source/exe/admin_client.h"
#include "source/exe/prefill.h"

namespace modgate::exe {
namespace {

// A port the kernel has just called free on 127.0.0.1 (another process may
// take it before the server binds it; the server then fails and says so).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

// True when another process (a running modgate) holds the cache's lock.
bool CacheInUse(const std::string& dir) {
  const std::string path = dir + "/LOCK";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool busy = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases the lock if we got it
  return busy;
}

// A modgate of our own for the fill, stopped (drained) by the destructor.
class ChildServer {
 public:
  ~ChildServer() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  // Starts `argv` and waits until its admin says /ready (up to 120 s).
  bool start(const std::vector<std::string>& argv, const std::string& admin) {
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execv(args[0], args.data());
      _exit(127);
    }
    if (pid_ < 0) return false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      if (adminRequest(admin, "GET", "/ready").status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
};

// The go command's rule: GOSUMDB is "off", "<name>", "<name>+<key>" or
// "<name>+<key> <url>"; unset means sum.golang.org.
std::string SumdbName(const std::optional<std::string>& flag) {
  std::string value = flag.value_or("");
  if (!flag) {
    const char* env = ::getenv("GOSUMDB");
    value = env != nullptr && *env != '\0' ? env : "sum.golang.org";
  }
  value = value.substr(0, value.find_first_of("+ "));
  return value == "off" ? "" : value;
}

// GONOSUMDB, else GOPRIVATE (as the go command falls back).
std::string NoSumdbPatterns() {
  for (const char* name : {"GONOSUMDB", "GOPRIVATE"}) {
    const char* env = ::getenv(name);
    if (env != nullptr && *env != '\0') return env;
  }
  return "";
}

}  // namespace

int runPrefill(const config::CommandLine& cl, const config::v1::Bootstrap& bootstrap,
               const std::string& self) {
  std::ifstream file(cl.prefill_input, std::ios::binary);
  if (!file) {
    fprintf(stderr, "modgate prefill: cannot read %s\n", cl.prefill_input.c_str());
    return 2;
  }
  std::stringstream text;
  text << file.rdbuf();
  absl::StatusOr<std::vector<PrefillItem>> items =
      cl.prefill_format == "go-sum"   ? ParseGoSum(text.str())
      : cl.prefill_format == "go-mod" ? ParseGoModRequires(text.str())
                                      : ParseModuleList(text.str());
  if (!items.ok()) {
    fprintf(stderr, "modgate prefill: %s: %s\n", cl.prefill_input.c_str(),
            std::string(items.status().message()).c_str());
    return 2;
  }

  PrefillOptions options;
  options.parallel = static_cast<int>(cl.prefill_parallel);
  options.tty = ::isatty(STDERR_FILENO) == 1;
  options.sumdb = SumdbName(cl.prefill_sumdb);
  options.no_sumdb = NoSumdbPatterns();
  ChildServer child;
  const std::string& dir = bootstrap.cache().dir();
  if (CacheInUse(dir)) {
    for (const auto& listener : bootstrap.listeners()) {
      if (!listener.has_tls()) {
        options.proxy_address = listener.address();
        break;
      }
    }
    if (options.proxy_address.empty()) {
      fprintf(stderr, "modgate prefill: the modgate serving %s has no plain-HTTP listener\n",
              dir.c_str());
      return 2;
    }
    options.admin_address = bootstrap.admin().address();
    fprintf(stderr, "modgate prefill: %zu module versions through the running modgate on %s\n",
            items->size(), options.proxy_address.c_str());
  } else {
    options.proxy_address = absl::StrCat("127.0.0.1:", FreePort());
    options.admin_address = absl::StrCat("127.0.0.1:", FreePort());
    std::vector<std::string> argv = {self};
    if (!cl.config_path.empty()) argv.insert(argv.end(), {"-c", cl.config_path});
    if (cl.upstream) argv.insert(argv.end(), {"--upstream", *cl.upstream});
    argv.insert(argv.end(), {"--cache-dir", dir, "--listen", options.proxy_address, "--admin",
                             options.admin_address, "--no-watch", "--log-level",
                             cl.log_level.value_or("warn")});
    if (!child.start(argv, options.admin_address)) {
      fprintf(stderr, "modgate prefill: could not start modgate on the cache %s\n", dir.c_str());
      return 2;
    }
    fprintf(stderr, "modgate prefill: %zu module versions into %s\n", items->size(), dir.c_str());
  }
  return prefill(*items, options) == 0 ? 0 : 1;
}

}  // namespace modgate::exe
