#include "source/filters/goproxy/goproxy_config.h"

namespace modgate::filters::goproxy {

using modgate::goproxy::RequestKind;

uint64_t maxBodyBytes(RequestKind kind) {
  switch (kind) {
    case RequestKind::kZip:
      return kMaxZipBytes;
    case RequestKind::kMod:
      return kMaxGoModBytes;
    default:
      return kMaxSmallBytes;
  }
}

const char* contentType(RequestKind kind) {
  switch (kind) {
    case RequestKind::kInfo:
    case RequestKind::kLatest:
      return "application/json";
    case RequestKind::kZip:
      return "application/zip";
    case RequestKind::kSumdbTile:
      return "application/octet-stream";
    default:
      return "text/plain; charset=utf-8";
  }
}

std::chrono::milliseconds freshFor(const GoproxyConfig& config,
                                   const modgate::goproxy::Request& request) {
  if (request.immutable()) return std::chrono::milliseconds(0);
  switch (request.kind) {
    case RequestKind::kList:
      return config.list_ttl;
    case RequestKind::kLatest:
    case RequestKind::kInfo:
      return config.latest_ttl;
    case RequestKind::kSumdbLatest:
      return config.sumdb_latest_ttl;
    case RequestKind::kSumdbSupported:
      return config.sumdb_supported_ttl;
    default:
      return config.latest_ttl;
  }
}

}  // namespace modgate::filters::goproxy
