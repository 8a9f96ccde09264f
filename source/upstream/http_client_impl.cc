#include "source/upstream/http_client_impl.h"

#include "source/upstream/deferred_delete.h"
#include "source/upstream/threaded_dns_resolver.h"
#include "source/upstream/upstream_request_impl.h"

namespace modgate::upstream {

HttpClientImpl::HttpClientImpl(event::Dispatcher& dispatcher, const ClientSettings& settings,
                               std::unique_ptr<tls::ClientContext> tls, std::string tls_error,
                               std::unique_ptr<DnsResolver> resolver)
    : dispatcher_(dispatcher),
      settings_(settings),
      tls_(std::move(tls)),
      tls_error_(std::move(tls_error)),
      resolver_(std::move(resolver)) {}

HttpClientImpl::~HttpClientImpl() {
  requests_.clear();
  pools_.clear();
}

UpstreamRequest* HttpClientImpl::send(const Url& base, std::string_view path,
                                      const http::HeaderMap& extra_headers,
                                      ResponseCallbacks& callbacks, const RequestOptions& options) {
  std::string target = base.path_prefix;
  target.append(path.data(), path.size());
  if (target.empty()) target = "/";
  auto request = std::make_unique<UpstreamRequestImpl>(
      *this, Origin::fromUrl(base), std::move(target), extra_headers, callbacks, options);
  UpstreamRequestImpl* raw = request.get();
  requests_.emplace(raw, std::move(request));
  raw->start();
  return raw;
}

ConnectionPool& HttpClientImpl::pool(const Origin& origin) {
  auto& pool = pools_[origin.key()];
  if (pool == nullptr) {
    pool = std::make_unique<ConnectionPool>(dispatcher_, settings_.max_idle_connections_per_host,
                                            settings_.pool_idle_timeout, mayUseHttp2(origin));
  }
  return *pool;
}

std::unique_ptr<Connector> HttpClientImpl::newConnector(const Origin& origin,
                                                        std::chrono::milliseconds timeout,
                                                        ConnectCallbacks& callbacks) {
  return std::make_unique<Connector>(dispatcher_, *resolver_, tls_.get(), tls_error_, origin,
                                     timeout, callbacks);
}

void HttpClientImpl::requestDone(UpstreamRequestImpl* request) {
  auto it = requests_.find(request);
  if (it == requests_.end()) return;
  std::unique_ptr<UpstreamRequestImpl> owned = std::move(it->second);
  requests_.erase(it);
  dispatcher_.deferredDelete(std::move(owned));
}

bool HttpClientImpl::mayUseHttp2(const Origin& origin) const {
  if (!settings_.http2) return false;
  return origin.tls() || settings_.http2_prior_knowledge;
}

bool HttpClientImpl::speaksHttp2(const Origin& origin,
                                 const network::Connection& connection) const {
  if (!mayUseHttp2(origin)) return false;
  // Without TLS there is no negotiation: prior knowledge means h2.
  return !origin.tls() || connection.negotiatedProtocol() == "h2";
}

size_t HttpClientImpl::idleConnections(const Url& base) const {
  auto it = pools_.find(Origin::fromUrl(base).key());
  return it == pools_.end() ? 0 : it->second->idleCount();
}

size_t HttpClientImpl::http2Connections(const Url& base) const {
  auto it = pools_.find(Origin::fromUrl(base).key());
  return it == pools_.end() ? 0 : it->second->http2Count();
}

size_t HttpClientImpl::bufferedResponseBytes(const Url& base) const {
  auto it = pools_.find(Origin::fromUrl(base).key());
  return it == pools_.end() ? 0 : it->second->bufferedResponseBytes();
}

absl::StatusOr<std::unique_ptr<HttpClient>> createHttpClientOrError(
    event::Dispatcher& dispatcher, const ClientSettings& settings) {
  tls::ClientContextConfig config;
  config.ca_file = settings.ca_file;
  config.verify = settings.verify;
  config.sni = settings.sni;
  config.certificate_chain_file = settings.certificate_chain_file;
  config.private_key_file = settings.private_key_file;
  // h2 first when enabled; origins that only speak HTTP/1.1 pick (or
  // default to) http/1.1.
  if (settings.http2) config.alpn.push_back("h2");
  config.alpn.push_back("http/1.1");
  absl::StatusOr<std::unique_ptr<tls::ClientContext>> tls = tls::ClientContext::create(config);
  if (!tls.ok()) return tls.status();
  return std::unique_ptr<HttpClient>(
      new HttpClientImpl(dispatcher, settings, std::move(*tls), "",
                         std::make_unique<ThreadedDnsResolver>(dispatcher)));
}

std::unique_ptr<HttpClient> createHttpClient(event::Dispatcher& dispatcher,
                                             const ClientSettings& settings) {
  absl::StatusOr<std::unique_ptr<HttpClient>> client =
      createHttpClientOrError(dispatcher, settings);
  if (client.ok()) return std::move(*client);
  return std::make_unique<HttpClientImpl>(
      dispatcher, settings, nullptr,
      "TLS client context unavailable: " + std::string(client.status().message()),
      std::make_unique<ThreadedDnsResolver>(dispatcher));
}

}  // namespace modgate::upstream
