#include "source/upstream/threaded_dns_resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>

#include <thread>

namespace modgate::upstream {
namespace {

bool parseNumeric(const std::string& host, network::Address& address) {
  address = network::Address{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    address.length = sizeof(sockaddr_in);
    return true;
  }
  address = network::Address{};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    address.length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

void setPort(network::Address& address, uint16_t port) {
  if (address.storage.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&address.storage)->sin_port = htons(port);
  } else if (address.storage.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&address.storage)->sin6_port = htons(port);
  }
}

}  // namespace

ThreadedDnsResolver::ThreadedDnsResolver(event::Dispatcher& dispatcher,
                                         std::chrono::milliseconds cache_ttl)
    : dispatcher_(dispatcher), cache_ttl_(cache_ttl), shared_(std::make_shared<Shared>()) {
  shared_->dispatcher = &dispatcher_;
  shared_->resolver = this;
}

ThreadedDnsResolver::~ThreadedDnsResolver() {
  std::lock_guard<std::mutex> guard(shared_->lock);
  shared_->dispatcher = nullptr;
  shared_->resolver = nullptr;
}

ThreadedDnsResolver::Answer ThreadedDnsResolver::withPort(const Answer& answer, uint16_t port) {
  if (!answer.ok()) return answer.status();
  std::vector<network::Address> out = *answer;
  for (auto& address : out) setPort(address, port);
  return out;
}

DnsResolver::Query* ThreadedDnsResolver::resolve(const std::string& host, uint16_t port,
                                                 ResolveCb cb) {
  network::Address numeric;
  if (parseNumeric(host, numeric)) {
    setPort(numeric, port);
    cb(std::vector<network::Address>{numeric});
    return nullptr;
  }
  auto cached = cache_.find(host);
  if (cached != cache_.end()) {
    if (cached->second.expiry > dispatcher_.now()) {
      cb(withPort(cached->second.addresses, port));
      return nullptr;
    }
    cache_.erase(cached);
  }
  auto query = std::make_unique<PendingQuery>();
  query->port = port;
  query->cb = std::move(cb);
  PendingQuery* handle = query.get();
  auto& waiting = pending_[host];
  waiting.push_back(std::move(query));
  if (waiting.size() == 1) {
    ++lookups_started_;
    std::thread([shared = shared_, host] {
      Answer answer = lookup(host);
      std::lock_guard<std::mutex> guard(shared->lock);
      if (shared->dispatcher == nullptr) return;
      shared->dispatcher->post([shared, host, answer = std::move(answer)]() mutable {
        // On the dispatcher thread, which also runs the destructor.
        if (shared->resolver != nullptr) shared->resolver->onResolved(host, std::move(answer));
      });
    }).detach();
  }
  return handle;
}

ThreadedDnsResolver::Answer ThreadedDnsResolver::lookup(const std::string& host) {
  addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* result = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
  if (rc != 0) {
    return absl::NotFoundError("cannot resolve " + host + ": " + gai_strerror(rc));
  }
  std::vector<network::Address> addresses;
  for (addrinfo* info = result; info != nullptr; info = info->ai_next) {
    if (info->ai_family != AF_INET && info->ai_family != AF_INET6) continue;
    if (info->ai_addrlen > sizeof(sockaddr_storage)) continue;
    network::Address address;
    memcpy(&address.storage, info->ai_addr, info->ai_addrlen);
    address.length = info->ai_addrlen;
    bool duplicate = false;
    for (const auto& seen : addresses) {
      duplicate |= seen.length == address.length &&
                   memcmp(&seen.storage, &address.storage, address.length) == 0;
    }
    if (!duplicate) addresses.push_back(address);
  }
  freeaddrinfo(result);
  if (addresses.empty()) return absl::NotFoundError("no addresses for " + host);
  return addresses;
}

void ThreadedDnsResolver::onResolved(const std::string& host, Answer answer) {
  auto it = pending_.find(host);
  if (it == pending_.end()) return;
  std::list<std::unique_ptr<PendingQuery>> waiting = std::move(it->second);
  pending_.erase(it);
  if (answer.ok()) {
    cache_[host] = CacheEntry{*answer, dispatcher_.now() + cache_ttl_};
  }
  for (auto& query : waiting) {
    // A callback may cancel a later query of this batch: check each time.
    if (!query->cb) continue;
    ResolveCb cb = std::move(query->cb);
    query->cb = nullptr;
    cb(withPort(answer, query->port));
  }
}

}  // namespace modgate::upstream
