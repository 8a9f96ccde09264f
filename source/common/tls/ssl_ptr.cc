#include "source/common/tls/ssl_ptr.h"

#include "source/common/tls/boringssl.h"

namespace modgate::tls {

void SslDeleter::operator()(ssl_st* ssl) const { SSL_free(ssl); }

void SslCtxDeleter::operator()(ssl_ctx_st* ctx) const { SSL_CTX_free(ctx); }

}  // namespace modgate::tls
