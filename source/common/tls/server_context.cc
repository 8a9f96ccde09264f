#include "source/common/tls/server_context.h"

#include <time.h>

#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "source/common/tls/boringssl.h"
#include "source/common/tls/certificate_names.h"
#include "source/common/tls/ssl_error.h"

namespace modgate::tls {
namespace {

// SSL_CTX ex_data slots: the ServerContext (for SNI) and the ticket keys.
int contextIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}
int ticketKeysIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

absl::StatusOr<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int onTicketKey(SSL* ssl, uint8_t* key_name, uint8_t* iv, EVP_CIPHER_CTX* cipher, HMAC_CTX* hmac,
                int encrypt) {
  const auto* keys = static_cast<const SessionTicketKeys*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ticketKeysIndex()));
  if (keys == nullptr) return encrypt ? -1 : 0;
  const int64_t now = ::time(nullptr);
  SessionTicketKeys::Key key;
  int result = 1;
  if (encrypt) {
    key = keys->encryptionKey(now);
    std::memcpy(key_name, key.name.data(), key.name.size());
    if (!RAND_bytes(iv, EVP_MAX_IV_LENGTH)) return -1;
  } else {
    bool current = false;
    if (!keys->decryptionKey(key_name, now, key, current)) return 0;  // full handshake
    result = current ? 1 : 2;  // 2: accept, and issue a ticket under the current key
  }
  if (!HMAC_Init_ex(hmac, key.hmac_key.data(), key.hmac_key.size(), EVP_sha256(), nullptr)) {
    return -1;
  }
  int ok = encrypt ? EVP_EncryptInit_ex(cipher, EVP_aes_128_cbc(), nullptr, key.aes_key.data(), iv)
                   : EVP_DecryptInit_ex(cipher, EVP_aes_128_cbc(), nullptr, key.aes_key.data(), iv);
  return ok ? result : -1;
}

int onAlpn(SSL*, const uint8_t** out, uint8_t* out_length, const uint8_t* in, unsigned in_length,
           void* arg) {
  const auto* wire = static_cast<const std::string*>(arg);
  uint8_t* selected = nullptr;
  // The server's order wins: offer h2 first and a client offering both gets it.
  if (SSL_select_next_proto(&selected, out_length, reinterpret_cast<const uint8_t*>(wire->data()),
                            wire->size(), in, in_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

ServerContext::~ServerContext() = default;

absl::StatusOr<std::shared_ptr<const ServerContext>> ServerContext::create(
    const ServerContextConfig& config, std::shared_ptr<const SessionTicketKeys> tickets) {
  if (config.certificates.empty()) {
    return absl::InvalidArgumentError("certificates: at least one certificate is required");
  }
  std::shared_ptr<ServerContext> context(new ServerContext());
  context->tickets_ = std::move(tickets);
  // Held by the context so that the ALPN callback's argument outlives every
  // SSL_CTX (the SSL_CTXs die with the context, connections keep both).
  auto alpn_wire = std::make_shared<std::string>();
  for (const std::string& protocol : config.alpn) {
    alpn_wire->push_back(static_cast<char>(protocol.size()));
    *alpn_wire += protocol;
  }
  std::string contents;
  auto read = [&](const std::string& field, const std::string& path) -> absl::Status {
    auto text = readFile(path);
    if (!text.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": cannot read ", path));
    contents += absl::StrCat(path, "\n", text->size(), "\n", *text);
    context->files_.push_back(path);
    return absl::OkStatus();
  };

  for (size_t i = 0; i < config.certificates.size(); ++i) {
    const auto& certificate = config.certificates[i];
    const std::string field = absl::StrCat("certificates[", i, "]");
    ERR_clear_error();
    SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
    if (ctx == nullptr) return absl::InternalError("SSL_CTX_new: " + takeSslError());
    if (!SSL_CTX_set_min_proto_version(ctx.get(), config.min_version) ||
        !SSL_CTX_set_max_proto_version(ctx.get(), config.max_version)) {
      return absl::InvalidArgumentError("bad TLS version range: " + takeSslError());
    }
    for (const auto& [name, path] : {std::pair{".certificate_chain_file", certificate.chain_file},
                                     std::pair{".private_key_file", certificate.key_file}}) {
      if (absl::Status status = read(field + name, path); !status.ok()) return status;
    }
    if (!SSL_CTX_use_certificate_chain_file(ctx.get(), certificate.chain_file.c_str())) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".certificate_chain_file: ", certificate.chain_file, ": ", takeSslError()));
    }
    if (!SSL_CTX_use_PrivateKey_file(ctx.get(), certificate.key_file.c_str(), SSL_FILETYPE_PEM)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".private_key_file: ", certificate.key_file, ": ", takeSslError()));
    }
    if (!SSL_CTX_check_private_key(ctx.get())) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".private_key_file: ", certificate.key_file,
                       " does not match the certificate in ", certificate.chain_file));
    }
    if (!config.client_ca_file.empty() &&
        config.client_certificate != ServerContextConfig::ClientCertificate::kNone) {
      if (i == 0) {
        if (absl::Status status = read("client_ca_file", config.client_ca_file); !status.ok()) {
          return status;
        }
      }
      if (!SSL_CTX_load_verify_locations(ctx.get(), config.client_ca_file.c_str(), nullptr)) {
        return absl::InvalidArgumentError(
            absl::StrCat("client_ca_file: ", config.client_ca_file, ": ", takeSslError()));
      }
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.client_ca_file.c_str());
      if (names == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("client_ca_file: ", config.client_ca_file,
                                                       ": no CA certificates: ", takeSslError()));
      }
      SSL_CTX_set_client_CA_list(ctx.get(), names);
      int mode = SSL_VERIFY_PEER;
      if (config.client_certificate == ServerContextConfig::ClientCertificate::kRequire) {
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      }
      SSL_CTX_set_verify(ctx.get(), mode, nullptr);
    }
    // Resumed sessions must come from this listener's settings; required
    // by BoringSSL once client certificates are verified.
    static constexpr char kSessionContext[] = "modgate";
    SSL_CTX_set_session_id_context(ctx.get(), reinterpret_cast<const uint8_t*>(kSessionContext),
                                   sizeof(kSessionContext) - 1);
    // Stateless tickets only: no per-process session cache to size or share.
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    if (context->tickets_ != nullptr) {
      const auto lifetime = static_cast<uint32_t>(context->tickets_->rotation().count());
      SSL_CTX_set_timeout(ctx.get(), lifetime);
      SSL_CTX_set_session_psk_dhe_timeout(ctx.get(), lifetime);
      SSL_CTX_set_ex_data(ctx.get(), ticketKeysIndex(),
                          const_cast<SessionTicketKeys*>(context->tickets_.get()));
      SSL_CTX_set_tlsext_ticket_key_cb(ctx.get(), onTicketKey);
    } else {
      SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
    }
    if (!alpn_wire->empty()) SSL_CTX_set_alpn_select_cb(ctx.get(), onAlpn, alpn_wire.get());
    SSL_CTX_set_ex_data(ctx.get(), contextIndex(), context.get());
    SSL_CTX_set_tlsext_servername_callback(ctx.get(), &ServerContext::onServerName);

    Certificate entry;
    entry.dns_names = namesOf(SSL_CTX_get0_certificate(ctx.get())).dns;
    entry.ctx = std::move(ctx);
    context->certificates_.push_back(std::move(entry));
  }
  context->alpn_wire_ = std::move(alpn_wire);
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(contents.data()), contents.size(), digest);
  context->fingerprint_ = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
  return std::shared_ptr<const ServerContext>(std::move(context));
}

const ServerContext::Certificate& ServerContext::certificateFor(const char* server_name) const {
  if (server_name != nullptr) {
    for (const auto& certificate : certificates_) {
      for (const auto& name : certificate.dns_names) {
        if (dnsNameMatches(name, server_name)) return certificate;
      }
    }
  }
  return certificates_.front();
}

int ServerContext::onServerName(SSL* ssl, int*, void*) {
  const auto* context =
      static_cast<const ServerContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), contextIndex()));
  if (context == nullptr || context->certificates_.size() < 2) return SSL_TLSEXT_ERR_OK;
  const Certificate& chosen =
      context->certificateFor(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
  if (chosen.ctx.get() != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, chosen.ctx.get());
  return SSL_TLSEXT_ERR_OK;
}

absl::StatusOr<SslPtr> ServerContext::newSsl() const {
  ERR_clear_error();
  SslPtr ssl(SSL_new(certificates_.front().ctx.get()));
  if (ssl == nullptr) return absl::InternalError("SSL_new: " + takeSslError());
  SSL_set_accept_state(ssl.get());
  return ssl;
}

}  // namespace modgate::tls
