#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "source/upstream/http_client.h"

namespace modgate::upstream {

// The outcome of one request to a host, as the outlier detector counts it.
// Envoy's equivalents (what its router reports) and the counters each one
// moves:
//
//   kSuccess         a non-5xx answer (putHttpResponseCode 1xx..4xx): resets
//                    consecutive_5xx and consecutive_gateway_failure; when
//                    split, also consecutive_local_origin_failure (the
//                    connection worked: LocalOriginConnectSuccess).
//   k5xx             500..599 except 502/503/504: consecutive_5xx + 1,
//                    resets consecutive_gateway_failure (and, when split,
//                    consecutive_local_origin_failure).
//   kGatewayFailure  502, 503, 504: consecutive_5xx + 1 and
//                    consecutive_gateway_failure + 1 (and, when split,
//                    resets consecutive_local_origin_failure).
//   kConnectFailure  LocalOriginConnectFailed (connect refused, unreachable,
//   kReset           TLS or DNS failure; connection lost mid-exchange):
//                    counted as a 503 unless split, else
//                    consecutive_local_origin_failure + 1.
//   kTimeout         LocalOriginTimeout: counted as a 504 unless split, else
//                    consecutive_local_origin_failure + 1.
enum class OutlierResult {
  kSuccess,
  k5xx,
  kGatewayFailure,
  kConnectFailure,
  kReset,
  kTimeout,
};

std::string_view outlierResultName(OutlierResult result);

// The result for an answer with HTTP status `status`.
OutlierResult outlierResultForStatus(uint32_t status);

// The result for a request that got no usable answer, or nullopt when the
// failure says nothing about the host: too many redirects means it answered
// (each redirect already counted as a success).
std::optional<OutlierResult> outlierResultForFailure(FailureReason reason);

}  // namespace modgate::upstream
