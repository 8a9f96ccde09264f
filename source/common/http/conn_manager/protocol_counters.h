#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace modgate::http {

// Downstream connections and streams by the protocol they speak, for the
// metrics (modgate_downstream_cx_protocol_*, modgate_downstream_rq_protocol_*).
// One per process, shared by the workers: relaxed atomic adds on the request
// path, read at scrape (no lock, no label lookup).
struct ProtocolCounters {
  // http1: HTTP/1.1 in clear; http1_tls: HTTP/1.1 over TLS; h2c: HTTP/2 in
  // clear (prior knowledge or an Upgrade: h2c); h2: HTTP/2 over TLS.
  static constexpr std::array<std::string_view, 4> kNames = {"http1", "http1_tls", "h2c", "h2"};
  static constexpr size_t index(bool http2, bool tls) { return (http2 ? 2 : 0) + (tls ? 1 : 0); }

  struct Counts {
    std::atomic<uint64_t> cx_total{0};
    std::atomic<int64_t> cx_active{0};
    std::atomic<uint64_t> rq_total{0};
    std::atomic<int64_t> rq_active{0};
    // Closed by the server for a protocol error or an abuse limit (an HTTP/2
    // flood, a CONTINUATION flood, rapid reset, a malformed HTTP/1 request).
    std::atomic<uint64_t> cx_protocol_error{0};
  };
  std::array<Counts, kNames.size()> by_protocol;
};

}  // namespace modgate::http
