#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "source/common/tls/session_ticket_keys.h"
#include "source/common/tls/ssl_ptr.h"

namespace modgate::tls {

struct ServerCertificateConfig {
  std::string chain_file;  // PEM, leaf first
  std::string key_file;    // PEM private key
};

struct ServerContextConfig {
  enum class ClientCertificate { kNone, kRequest, kRequire };

  // The first is the default; the others are chosen by SNI against their
  // DNS subjectAltNames.
  std::vector<ServerCertificateConfig> certificates;
  std::vector<std::string> alpn = {"h2", "http/1.1"};
  uint16_t min_version = 0x0303;  // TLS 1.2
  uint16_t max_version = 0x0304;  // TLS 1.3
  std::string client_ca_file;
  ClientCertificate client_certificate = ClientCertificate::kNone;
};

// One immutable set of server TLS settings: an SSL_CTX per certificate,
// each carrying the same protocol versions, ALPN choice, client-certificate
// policy and session-ticket keys. Built on the main thread from files (so a
// reload or a certificate change builds a new one, and a bad file leaves
// the running one in place); used by any worker.
class ServerContext {
 public:
  // Reads every file. An error names the bad part relative to the TLS
  // settings, e.g. "certificates[1].private_key_file: ...". `tickets`
  // null: no session tickets.
  static absl::StatusOr<std::shared_ptr<const ServerContext>> create(
      const ServerContextConfig& config, std::shared_ptr<const SessionTicketKeys> tickets);
  ~ServerContext();

  // A server-side session; the connection must keep this context alive
  // while it lives (the SNI callback reaches it).
  absl::StatusOr<SslPtr> newSsl() const;

  // SHA-256 over the contents of every file read: equal fingerprints mean
  // a rebuild would change nothing.
  const std::string& fingerprint() const { return fingerprint_; }
  const std::shared_ptr<const SessionTicketKeys>& ticketKeys() const { return tickets_; }
  // Every file it was built from (for watching).
  const std::vector<std::string>& files() const { return files_; }

 private:
  struct Certificate {
    SslCtxPtr ctx;
    std::vector<std::string> dns_names;
  };
  ServerContext() = default;
  static int onServerName(ssl_st* ssl, int* alert, void* arg);
  const Certificate& certificateFor(const char* server_name) const;

  std::vector<Certificate> certificates_;
  // ALPN protocols in wire format (the ALPN callback's argument).
  std::shared_ptr<const std::string> alpn_wire_;
  std::shared_ptr<const SessionTicketKeys> tickets_;
  std::string fingerprint_;
  std::vector<std::string> files_;
};
using ServerContextSharedPtr = std::shared_ptr<const ServerContext>;

// The TLS settings a listener serves now, or null for plain HTTP. The main
// thread swaps in a new context (reload, certificate files changed); a
// worker reads it once per accepted connection, which keeps its context for
// its whole life, so swaps never disturb open connections.
class ServerContextSlot {
 public:
  ServerContextSharedPtr get() const { return current_.load(std::memory_order_acquire); }
  void set(ServerContextSharedPtr context) {
    current_.store(std::move(context), std::memory_order_release);
  }

 private:
  std::atomic<ServerContextSharedPtr> current_;
};
using ServerContextSlotSharedPtr = std::shared_ptr<ServerContextSlot>;

}  // namespace modgate::tls
