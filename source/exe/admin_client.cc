#include "source/exe/admin_client.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace modgate::exe {

AdminReply adminRequest(const std::string& address, const std::string& method,
                        const std::string& path) {
  AdminReply reply;
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    reply.body = "admin address must be host:port: " + address;
    return reply;
  }
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  // A wildcard listen address is reached on loopback.
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    reply.body = "cannot resolve " + address;
    return reply;
  }
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd >= 0 && ::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) {
    reply.body = "cannot connect to modgate's admin address " + address + ": " + strerror(errno);
    return reply;
  }
  const std::string request = method + " " + path + " HTTP/1.1\r\nHost: " + address +
                              "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buf[16384];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t end = response.find("\r\n\r\n");
  if (response.compare(0, 9, "HTTP/1.1 ") != 0 || end == std::string::npos) {
    reply.body = "no HTTP answer from " + address;
    return reply;
  }
  reply.status = std::atoi(response.c_str() + 9);
  reply.body = response.substr(end + 4);
  // The admin server answers with a Content-Length; chunked bodies are not
  // expected here.
  return reply;
}

int runVerifyCache(const std::string& address) {
  AdminReply started = adminRequest(address, "POST", "/verify_cache");
  if (started.status == 0) {
    fprintf(stderr, "modgate verify-cache: %s\n", started.body.c_str());
    return 2;
  }
  if (started.status != 202 && started.status != 409) {
    fprintf(stderr, "modgate verify-cache: %d %s", started.status, started.body.c_str());
    return 2;
  }
  // Bounded: a cache of tens of thousands of zips takes minutes, not hours.
  for (int i = 0; i < 4 * 3600 * 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    AdminReply report = adminRequest(address, "GET", "/verify_cache");
    if (report.status != 200) {
      fprintf(stderr, "modgate verify-cache: %d %s", report.status, report.body.c_str());
      return 2;
    }
    if (report.body.compare(0, 5, "done:") != 0) continue;
    fputs(report.body.c_str(), stdout);
    const bool clean = report.body.find(" 0 removed, 0 not verifiable") != std::string::npos;
    return clean ? 0 : 1;
  }
  fprintf(stderr, "modgate verify-cache: still running after 4 hours\n");
  return 2;
}

}  // namespace modgate::exe
