#include "test/upstream/child_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace modgate::upstream::testing {

std::unique_ptr<ChildServer> ChildServer::start(const std::vector<std::string>& argv,
                                                const std::function<bool()>& ready,
                                                std::chrono::milliseconds deadline) {
  std::vector<std::string> args = argv;
  pid_t pid = fork();
  if (pid < 0) return nullptr;
  if (pid == 0) {
    std::vector<char*> raw;
    for (std::string& arg : args) raw.push_back(arg.data());
    raw.push_back(nullptr);
    execv(raw[0], raw.data());
    _exit(127);
  }
  std::unique_ptr<ChildServer> child(new ChildServer(pid));
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (ready()) return child;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      child->pid_ = -1;  // already reaped
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return nullptr;  // the destructor ends it
}

ChildServer::~ChildServer() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 300; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

void ChildServer::crash() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

uint16_t readPortFile(const std::string& path) {
  const std::string text = readFile(path);
  const int port = text.empty() ? 0 : std::atoi(text.c_str());
  return port > 0 && port < 65536 ? static_cast<uint16_t>(port) : 0;
}

bool acceptingOnLoopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

}  // namespace modgate::upstream::testing
