#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/http/header_map.h"
#include "source/upstream/resource_limit.h"

namespace modgate::upstream {

// An origin base URL: "https://proxy.golang.org", "http://[::1]:8080/prefix",
// or "file:///srv/goproxy" (a GOPROXY file tree: no host or port, the
// directory in path_prefix).
struct Url {
  std::string scheme;       // "http", "https" or "file"
  std::string host;         // name or IP literal, IPv6 without brackets, lower-case
  uint16_t port = 0;        // explicit or the scheme's default
  std::string path_prefix;  // "" or "/prefix" (no trailing slash, no query)

  static absl::StatusOr<Url> parse(std::string_view text);
  // "host", "host:port" (non-default port), "[v6]:port": the Host header.
  std::string authority() const;
  bool tls() const { return scheme == "https"; }
  bool file() const { return scheme == "file"; }
};

enum class FailureReason {
  kConnectFailure,    // TCP connect refused/unreachable on every address
  kTlsFailure,        // handshake or certificate/hostname verification failed
  kDnsFailure,        // the host name did not resolve
  kReset,             // the connection closed or failed mid-exchange
  kTimeout,           // connect, response-header or body-idle timeout
  kProtocolError,     // malformed response, or a refused (https -> http) redirect
  kTooManyRedirects,  // more than RequestOptions::max_redirects hops
  kOverflow,          // response headers too large
  // The connection circuit breakers (RequestOptions::limits) gave the
  // request no connection: max_pending_requests requests were already
  // waiting, or none came free within the response timeout. Nothing was sent.
  kPoolOverflow,
};
std::string_view failureReasonName(FailureReason reason);

struct RequestOptions {
  std::chrono::milliseconds connect_timeout{5000};    // DNS + TCP + TLS, per address tried
  std::chrono::milliseconds response_timeout{15000};  // from request sent until response headers
  std::chrono::milliseconds idle_timeout{30000};      // max gap between body bytes
  int max_redirects = 10;                             // never https -> http
  std::string method = "GET";                         // GET or HEAD
  // Host header (HTTP/1.1) / :authority (HTTP/2) instead of the URL's
  // authority, e.g. for a virtual host behind a load balancer address.
  // Not carried across a redirect to another origin. TLS SNI and
  // certificate checks still use the URL's host (or ClientSettings::sni).
  // "" = base.authority().
  std::string authority;
  // Circuit breakers on connections (default: none). When opening a
  // connection would exceed one, the request waits (a pending request) for
  // a connection of its pool to come free, at most response_timeout, and
  // fails with kPoolOverflow if limits.pending_requests is full or the time
  // runs out.
  ConnectionLimits limits;
};

class ResponseCallbacks {
 public:
  virtual ~ResponseCallbacks() = default;
  // The final response after redirects: status and headers (lower-case
  // names). end_stream: there is no body.
  virtual void onResponseHeaders(std::unique_ptr<http::ResponseHeaders> headers,
                                 bool end_stream) = 0;
  // Body bytes as they arrive (never buffered whole). Drain what you take;
  // what is left stays in front of the next delivery. `data` may be empty
  // when end_stream is true.
  virtual void onResponseData(buffer::Buffer& data, bool end_stream) = 0;
  // Terminal; may also come after the headers (reset mid-body).
  virtual void onFailure(FailureReason reason, std::string_view detail) = 0;
};

// A request in flight. Valid until a terminal callback (end_stream or
// onFailure) returns, or until cancel(). Every method may be called from
// inside the callbacks.
class UpstreamRequest {
 public:
  virtual ~UpstreamRequest() = default;
  // No more callbacks. The connection goes back to the pool if it is clean,
  // else it is closed.
  virtual void cancel() = 0;
  // Back-pressure: while disabled, nothing more is read from the origin's
  // socket (and the body idle timeout is paused).
  virtual void readDisable(bool disable) = 0;
};

// Origin-facing HTTP client of one worker dispatcher. Owns the connection
// pools (one per scheme + host + port). Dispatcher thread only. Destroying it
// abandons requests in flight silently.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // GET (options.method) base.path_prefix + path (`path` already escaped,
  // starting with '/'). Host header: options.authority, else
  // base.authority() (a "host" in extra_headers is ignored). Callbacks never
  // run inside send().
  virtual UpstreamRequest* send(const Url& base, std::string_view path,
                                const http::HeaderMap& extra_headers, ResponseCallbacks& callbacks,
                                const RequestOptions& options) = 0;
};

struct ClientSettings {
  std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";
  bool verify = true;
  // TLS: name to send as SNI and to verify instead of the URL's host.
  std::string sni;
  // TLS: a client certificate (PEM chain and key) for servers that ask.
  std::string certificate_chain_file;
  std::string private_key_file;
  uint32_t max_idle_connections_per_host = 16;
  std::chrono::milliseconds pool_idle_timeout{60000};
  // https origins: offer "h2,http/1.1" by ALPN and speak HTTP/2 when the
  // origin picks h2 (many requests multiplexed on one connection).
  bool http2 = false;
  // http origins (only with `http2`): HTTP/2 with prior knowledge (h2c, RFC
  // 9113 3.3), no Upgrade dance. Off by default because an origin that only
  // speaks HTTP/1.1 then fails every request; turn it on only for origins
  // known to speak h2c.
  bool http2_prior_knowledge = false;
};

// Never fails: if the TLS context cannot be built (unreadable CA file), plain
// http still works and every https request fails with kTlsFailure saying why.
std::unique_ptr<HttpClient> createHttpClient(event::Dispatcher& dispatcher,
                                             const ClientSettings& settings);
// For startup validation: fails if the TLS context cannot be built.
absl::StatusOr<std::unique_ptr<HttpClient>> createHttpClientOrError(event::Dispatcher& dispatcher,
                                                                    const ClientSettings& settings);

}  // namespace modgate::upstream
