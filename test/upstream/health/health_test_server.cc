#include "test/upstream/health/health_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace modgate::upstream::testing {
namespace {

int listenOnLoopback(uint16_t& port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) abort();
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) abort();
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

std::string headerValue(const std::string& head, const std::string& lower_name) {
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string::npos) {
    pos += 2;
    size_t colon = head.find(':', pos);
    size_t end = head.find("\r\n", pos);
    if (colon == std::string::npos || (end != std::string::npos && colon > end)) continue;
    std::string name = head.substr(pos, colon - pos);
    for (char& c : name) c = static_cast<char>(tolower(c));
    if (name != lower_name) continue;
    size_t start = head.find_first_not_of(' ', colon + 1);
    return head.substr(start, (end == std::string::npos ? head.size() : end) - start);
  }
  return "";
}

}  // namespace

HealthTestServer::HealthTestServer() {
  listen_fd_ = listenOnLoopback(port_);
  if (listen(listen_fd_, 64) != 0) abort();
  acceptor_ = std::thread([this] { acceptLoop(); });
}

HealthTestServer::~HealthTestServer() {
  stopping_ = true;
  acceptor_.join();
  close(listen_fd_);
  {
    std::lock_guard<std::mutex> guard(lock_);
    for (int fd : connection_fds_) shutdown(fd, SHUT_RDWR);
  }
  for (std::thread& thread : threads_) thread.join();
  // Closed only here, after every thread is done with its fd.
  for (int fd : connection_fds_) close(fd);
}

void HealthTestServer::setStatus(const std::string& path, int status) {
  std::lock_guard<std::mutex> guard(lock_);
  paths_[path].status = status;
}

void HealthTestServer::setDelay(const std::string& path, std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> guard(lock_);
  paths_[path].delay = delay;
}

int HealthTestServer::requests(const std::string& path) const {
  return static_cast<int>(requestTimes(path).size());
}

std::vector<std::chrono::steady_clock::time_point> HealthTestServer::requestTimes(
    const std::string& path) const {
  std::lock_guard<std::mutex> guard(lock_);
  auto it = paths_.find(path);
  return it == paths_.end() ? std::vector<std::chrono::steady_clock::time_point>{}
                            : it->second.times;
}

std::string HealthTestServer::lastHost(const std::string& path) const {
  std::lock_guard<std::mutex> guard(lock_);
  auto it = paths_.find(path);
  return it == paths_.end() ? "" : it->second.last_host;
}

void HealthTestServer::acceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> guard(lock_);
    connection_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void HealthTestServer::serve(int fd) {
  std::string buffer;
  char chunk[4096];
  while (!stopping_) {
    size_t end;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) return;  // the fd is closed by the destructor
      buffer.append(chunk, static_cast<size_t>(n));
    }
    std::string head = buffer.substr(0, end);
    buffer.erase(0, end + 4);
    size_t first_space = head.find(' ');
    size_t second_space = head.find(' ', first_space + 1);
    std::string path = head.substr(first_space + 1, second_space - first_space - 1);
    int status;
    std::chrono::milliseconds delay;
    {
      std::lock_guard<std::mutex> guard(lock_);
      PathState& state = paths_[path];
      state.times.push_back(std::chrono::steady_clock::now());
      state.last_host = headerValue(head, "host");
      status = state.status;
      delay = state.delay;
    }
    auto until = std::chrono::steady_clock::now() + delay;
    while (!stopping_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::string response = "HTTP/1.1 " + std::to_string(status) +
                           " X\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok";
    if (send(fd, response.data(), response.size(), MSG_NOSIGNAL) < 0) return;
  }
}

uint16_t refusedPort() {
  uint16_t port;
  int fd = listenOnLoopback(port);
  close(fd);
  return port;
}

}  // namespace modgate::upstream::testing
