#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "api/modgate/config/v1/listener.pb.h"
#include "source/common/event/dispatcher.h"
#include "source/common/filesystem/directory_watcher.h"
#include "source/common/network/connection.h"
#include "source/common/tls/server_context.h"

namespace modgate::control_plane {

// What a sidecar's accepted socket becomes before gRPC sees it: TCP
// keepalive on, then TLS when the control plane has `tls` (else h2c).
//
// The TLS context is built from the files at initialize() (a bad file
// fails start-up, naming the field) and again whenever a file in one of
// their directories changes (cert-manager renewals, a Secret volume's
// ..data swap): a context that builds and differs from the running one is
// swapped in for new connections; one that does not build (a half-written
// file) is logged and the running one stays. Open streams keep the context
// they were accepted with. One thread, the control plane's.
class XdsTransport {
 public:
  // `tls` null: plain h2c.
  XdsTransport(event::Dispatcher& dispatcher, const config::v1::DownstreamTls* tls);
  ~XdsTransport();

  absl::Status initialize();
  // The HttpListener's transport factory.
  network::ConnectionPtr wrap(event::Dispatcher& dispatcher, int fd, std::string remote);
  bool tls() const { return tls_config_ != nullptr; }

 private:
  absl::StatusOr<tls::ServerContextSharedPtr> build();
  void refresh();

  event::Dispatcher& dispatcher_;
  std::unique_ptr<config::v1::DownstreamTls> tls_config_;
  std::shared_ptr<const tls::SessionTicketKeys> tickets_;
  tls::ServerContextSharedPtr context_;
  // One per directory holding a certificate, key or CA file.
  std::map<std::string, std::unique_ptr<filesystem::DirectoryWatcher>> watchers_;
};

}  // namespace modgate::control_plane
