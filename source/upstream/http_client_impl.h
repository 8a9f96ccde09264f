#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "source/common/event/dispatcher.h"
#include "source/common/tls/client_context.h"
#include "source/upstream/connection_pool.h"
#include "source/upstream/connector.h"
#include "source/upstream/dns_resolver.h"
#include "source/upstream/http_client.h"
#include "source/upstream/origin.h"

namespace modgate::upstream {

class UpstreamRequestImpl;

class HttpClientImpl : public HttpClient {
 public:
  // `tls` may be null: https requests then fail with `tls_error`.
  HttpClientImpl(event::Dispatcher& dispatcher, const ClientSettings& settings,
                 std::unique_ptr<tls::ClientContext> tls, std::string tls_error,
                 std::unique_ptr<DnsResolver> resolver);
  ~HttpClientImpl() override;

  UpstreamRequest* send(const Url& base, std::string_view path,
                        const http::HeaderMap& extra_headers, ResponseCallbacks& callbacks,
                        const RequestOptions& options) override;

  // For requests.
  event::Dispatcher& dispatcher() { return dispatcher_; }
  ConnectionPool& pool(const Origin& origin);
  std::unique_ptr<Connector> newConnector(const Origin& origin, std::chrono::milliseconds timeout,
                                          ConnectCallbacks& callbacks);
  // The request reached a terminal state: freed after this loop iteration.
  void requestDone(UpstreamRequestImpl* request);
  void noteConnectionOpened() { ++connections_opened_; }
  // Whether `origin`'s connections may speak HTTP/2: h2 offered by ALPN
  // (https), or h2c by prior knowledge (http, opt-in).
  bool mayUseHttp2(const Origin& origin) const;
  // Whether a connection just established to `origin` speaks HTTP/2.
  bool speaksHttp2(const Origin& origin, const network::Connection& connection) const;
  std::chrono::milliseconds poolIdleTimeout() const { return settings_.pool_idle_timeout; }

  // For tests and stats.
  uint64_t connectionsOpened() const { return connections_opened_; }
  size_t idleConnections(const Url& base) const;
  size_t activeRequests() const { return requests_.size(); }
  size_t http2Connections(const Url& base) const;
  // HTTP/2 response body bytes received but not yet taken by callers.
  size_t bufferedResponseBytes(const Url& base) const;

 private:
  event::Dispatcher& dispatcher_;
  const ClientSettings settings_;
  std::unique_ptr<tls::ClientContext> tls_;
  const std::string tls_error_;
  std::unique_ptr<DnsResolver> resolver_;
  uint64_t connections_opened_ = 0;
  absl::flat_hash_map<std::string, std::unique_ptr<ConnectionPool>> pools_;
  // Last: requests go first on destruction (they use pools and resolver).
  absl::flat_hash_map<UpstreamRequestImpl*, std::unique_ptr<UpstreamRequestImpl>> requests_;
};

}  // namespace modgate::upstream
