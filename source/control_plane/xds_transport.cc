#include "source/control_plane/xds_transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "source/common/common/logger.h"
#include "source/common/network/socket_connection.h"
#include "source/common/tls/tls_connection.h"
#include "source/config/tls_context_config.h"

namespace modgate::control_plane {
namespace {

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

XdsTransport::XdsTransport(event::Dispatcher& dispatcher, const config::v1::DownstreamTls* tls)
    : dispatcher_(dispatcher) {
  if (tls != nullptr) tls_config_ = std::make_unique<config::v1::DownstreamTls>(*tls);
}

XdsTransport::~XdsTransport() = default;

absl::StatusOr<tls::ServerContextSharedPtr> XdsTransport::build() {
  auto built =
      tls::ServerContext::create(config::ServerContextConfigOf(*tls_config_, {"h2"}), tickets_);
  if (!built.ok()) {
    return absl::Status(built.status().code(), absl::StrCat("tls.", built.status().message()));
  }
  return built;
}

absl::Status XdsTransport::initialize() {
  if (tls_config_ == nullptr) return absl::OkStatus();
  const std::chrono::seconds rotation = config::SessionTicketRotationOf(*tls_config_);
  // Kept for the process's life, so that certificate swaps keep resumption
  // working.
  if (rotation.count() > 0) tickets_ = std::make_shared<tls::SessionTicketKeys>(rotation);
  auto built = build();
  if (!built.ok()) return built.status();
  context_ = std::move(*built);
  for (const std::string& file : context_->files()) {
    const std::string directory = DirectoryOf(file);
    if (watchers_.count(directory) != 0) continue;
    auto watcher = filesystem::DirectoryWatcher::create(
        dispatcher_, directory, [this] { refresh(); }, std::chrono::milliseconds(100),
        std::chrono::seconds(1));
    if (!watcher.ok()) {
      LOG_WARN("control plane TLS: changes of ", file,
               " are not followed: ", std::string(watcher.status().message()));
      continue;
    }
    watchers_[directory] = std::move(*watcher);
  }
  return absl::OkStatus();
}

void XdsTransport::refresh() {
  auto built = build();
  if (!built.ok()) {
    LOG_WARN("control plane TLS: files changed but cannot be used yet (",
             std::string(built.status().message()), "); still serving the previous ones");
    return;
  }
  if ((*built)->fingerprint() == context_->fingerprint()) return;
  context_ = std::move(*built);
  LOG_INFO("control plane TLS: certificates reloaded from disk");
}

network::ConnectionPtr XdsTransport::wrap(event::Dispatcher& dispatcher, int fd,
                                          std::string remote) {
  // A sidecar's pod can vanish without a FIN (its node died): TCP keepalive
  // ends such a stream after about 90 s, so /fleet stops showing it
  // connected.
  const int on = 1, idle = 60, interval = 10, count = 3;
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
  network::ConnectionPtr connection =
      std::make_unique<network::SocketConnection>(dispatcher, fd, std::move(remote));
  if (context_ == nullptr) return connection;
  auto ssl = context_->newSsl();
  if (!ssl.ok()) {  // out of memory: refuse this one (closing the socket)
    LOG_ERROR("control plane TLS session: ", std::string(ssl.status().message()));
    return nullptr;
  }
  return std::make_unique<tls::TlsConnection>(std::move(*ssl), std::move(connection),
                                              /*transport_connected=*/true, context_);
}

}  // namespace modgate::control_plane
