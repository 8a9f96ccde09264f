#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace modgate::http::http1::testing {

struct RawResponse {
  int status = 0;
  std::string reason;
  // Names lower-cased, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string raw_head;

  // The first value of `name` (lower-case), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
};

// A blocking TCP client for sending exact bytes and reading responses.
// Every read is bounded by a receive timeout.
class RawClient {
 public:
  // `receive_buffer` > 0 shrinks SO_RCVBUF before connecting (slow reader).
  explicit RawClient(uint16_t port, int receive_buffer = 0,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send(std::string_view data);
  // Reads one response. `head_request` means it has no body.
  std::optional<RawResponse> readResponse(bool head_request = false);
  // Reads exactly `length` bytes (after anything already buffered).
  std::optional<std::string> readExactly(size_t length);
  // Reads until the server closes; false on timeout.
  bool readUntilClose(std::string& out);
  // True if the server closed the connection (EOF or reset) within the
  // timeout with no further bytes.
  bool waitForClose();
  void close();

 private:
  // Appends at least one byte to pending_; false on EOF, error or timeout.
  bool fill();
  bool readLine(std::string& line);

  int fd_ = -1;
  std::string pending_;
  bool eof_ = false;
};

}  // namespace modgate::http::http1::testing
