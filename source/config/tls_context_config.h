#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "api/modgate/config/v1/cluster.pb.h"
#include "api/modgate/config/v1/listener.pb.h"
#include "source/common/tls/client_context.h"
#include "source/common/tls/server_context.h"

namespace modgate::config {

// The config's TLS messages as the settings source/common/tls builds its
// contexts from, defaults applied, in one place: a modgate listener, the
// control plane's xDS listener, upstream endpoints and a sidecar's control
// plane client read the same fields the same way.

// A listener's server settings. `default_alpn` applies when
// alpn_protocols is empty.
tls::ServerContextConfig ServerContextConfigOf(const v1::DownstreamTls& tls,
                                               std::vector<std::string> default_alpn = {
                                                   "h2", "http/1.1"});

// How often session ticket keys rotate (0: no tickets). Default 1h.
std::chrono::seconds SessionTicketRotationOf(const v1::DownstreamTls& tls);

// A client's settings: the trust store (the system's unless ca_file),
// verification, SNI, the client certificate, and the ALPN offer.
tls::ClientContextConfig ClientContextConfigOf(const v1::UpstreamTls& tls,
                                               std::vector<std::string> alpn);

}  // namespace modgate::config
