#include "test/common/http/http1/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace modgate::http::http1::testing {

std::optional<std::string> RawResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return std::nullopt;
}

RawClient::RawClient(uint16_t port, int receive_buffer, std::chrono::milliseconds timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (receive_buffer > 0) {
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  }
  timeval tv;
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawClient::~RawClient() { close(); }

void RawClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawClient::send(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool RawClient::fill() {
  if (eof_ || fd_ < 0) return false;
  char buffer[64 * 1024];
  while (true) {
    ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;  // EOF, reset or timeout: nothing more will come
      return false;
    }
    pending_.append(buffer, static_cast<size_t>(n));
    return true;
  }
}

bool RawClient::readLine(std::string& line) {
  size_t end;
  while ((end = pending_.find("\r\n")) == std::string::npos) {
    if (!fill()) return false;
  }
  line = pending_.substr(0, end);
  pending_.erase(0, end + 2);
  return true;
}

std::optional<std::string> RawClient::readExactly(size_t length) {
  while (pending_.size() < length) {
    if (!fill()) return std::nullopt;
  }
  std::string out = pending_.substr(0, length);
  pending_.erase(0, length);
  return out;
}

std::optional<RawResponse> RawClient::readResponse(bool head_request) {
  size_t end;
  while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return std::nullopt;
  }
  RawResponse response;
  response.raw_head = pending_.substr(0, end + 4);
  pending_.erase(0, end + 4);
  std::string_view head(response.raw_head);
  size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (status_line.substr(0, 9) != "HTTP/1.1 " || status_line.size() < 12) return std::nullopt;
  response.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  if (status_line.size() > 13) response.reason = std::string(status_line.substr(13));
  head.remove_prefix(line_end + 2);
  while (!head.empty()) {
    line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    head.remove_prefix(line_end + 2);
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    response.headers.emplace_back(std::move(name), std::string(value));
  }
  if (head_request || response.status < 200 || response.status == 204 || response.status == 304) {
    return response;
  }
  auto transfer_encoding = response.header("transfer-encoding");
  auto content_length = response.header("content-length");
  if (transfer_encoding && *transfer_encoding == "chunked") {
    while (true) {
      std::string size_line;
      if (!readLine(size_line)) return std::nullopt;
      size_t size = std::strtoul(size_line.c_str(), nullptr, 16);
      if (size == 0) {
        std::string trailer;
        if (!readLine(trailer) || !trailer.empty()) return std::nullopt;
        break;
      }
      auto data = readExactly(size + 2);
      if (!data || data->substr(size) != "\r\n") return std::nullopt;
      response.body.append(*data, 0, size);
    }
  } else if (content_length) {
    auto data = readExactly(std::strtoul(content_length->c_str(), nullptr, 10));
    if (!data) return std::nullopt;
    response.body = std::move(*data);
  } else {
    if (!readUntilClose(response.body)) return std::nullopt;
  }
  return response;
}

bool RawClient::readUntilClose(std::string& out) {
  while (fill()) {
  }
  out += pending_;
  pending_.clear();
  // fill() also stops on a timeout; tell the two apart.
  char c;
  ssize_t n = ::recv(fd_, &c, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

bool RawClient::waitForClose() {
  if (!pending_.empty()) return false;
  char c;
  while (true) {
    ssize_t n = ::recv(fd_, &c, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
    return false;  // unexpected bytes
  }
}

}  // namespace modgate::http::http1::testing
