#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "api/modgate/config/v1/bootstrap.pb.h"

namespace modgate::config {

// Documented defaults (see the comments in api/modgate/config/v1/*.proto).
inline constexpr absl::string_view kDefaultListenerName = "main";
inline constexpr absl::string_view kDefaultListenerAddress = "127.0.0.1:8080";
inline constexpr absl::string_view kDefaultAdminAddress = "127.0.0.1:9901";
inline constexpr uint64_t kDefaultCacheMaxBytes = uint64_t{10} << 30;      // 10 GiB
inline constexpr uint64_t kDefaultHotObjectMaxBytes = uint64_t{1} << 20;   // 1 MiB
inline constexpr uint64_t kDefaultHotCacheMaxBytes = uint64_t{256} << 20;  // 256 MiB
inline constexpr int64_t kDefaultCacheTtlSeconds = 60;
inline constexpr int64_t kDefaultConnectTimeoutSeconds = 5;
inline constexpr int64_t kDefaultResponseTimeoutSeconds = 30;
inline constexpr int64_t kDefaultUpstreamIdleTimeoutSeconds = 60;
inline constexpr uint32_t kDefaultMaxConnectionsPerHost = 64;
inline constexpr uint32_t kDefaultEndpointWeight = 1;
inline constexpr uint32_t kDefaultMaxRequestHeadersKb = 60;
inline constexpr uint32_t kDefaultMaxHeadersCount = 100;
inline constexpr int64_t kDefaultRequestTimeoutSeconds = 10;
inline constexpr int64_t kDefaultDownstreamIdleTimeoutSeconds = 60;
inline constexpr uint32_t kDefaultMaxConcurrentStreams = 100;
inline constexpr absl::string_view kDefaultLogLevel = "info";
inline constexpr absl::string_view kDefaultRouteName = "default";

// The default cache directory: $XDG_CACHE_HOME/modgate when XDG_CACHE_HOME
// is absolute (the XDG spec says to ignore relative values), else
// $HOME/.cache/modgate; "" when neither is usable. Arguments may be null
// (unset variables); taking them as parameters keeps this testable.
std::string DefaultCacheDir(const char* xdg_cache_home, const char* home);

// Fills every unset field that has a documented default, so later code can
// read values without knowing defaults. Idempotent; never overrides a set
// value. Beyond per-field defaults:
//  - no listeners: one listener "main" on 127.0.0.1:8080; listeners without
//    a name get "listener<index>";
//  - no routes and exactly one cluster: one catch-all route "default" to it;
//  - cache.dir from the environment (DefaultCacheDir with getenv).
// Endpoint TLS sni stays "" (meaning the URL host) and concurrency stays 0
// (meaning the core count): those defaults depend on the runtime.
void ApplyDefaults(v1::Bootstrap& bootstrap);

}  // namespace modgate::config
