#pragma once

#include <memory>

// BoringSSL's struct names, so that users of these handles need not include
// BoringSSL's headers.
struct ssl_st;
struct ssl_ctx_st;

namespace modgate::tls {

struct SslDeleter {
  void operator()(ssl_st* ssl) const;
};
// An owned SSL object (one TLS session over one connection).
using SslPtr = std::unique_ptr<ssl_st, SslDeleter>;

struct SslCtxDeleter {
  void operator()(ssl_ctx_st* ctx) const;
};
// An owned SSL_CTX (settings shared by many connections).
using SslCtxPtr = std::unique_ptr<ssl_ctx_st, SslCtxDeleter>;

}  // namespace modgate::tls
