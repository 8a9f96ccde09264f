#include "source/upstream/health/outlier_result.h"

namespace modgate::upstream {

std::string_view outlierResultName(OutlierResult result) {
  switch (result) {
    case OutlierResult::kSuccess:
      return "success";
    case OutlierResult::k5xx:
      return "5xx";
    case OutlierResult::kGatewayFailure:
      return "gateway_failure";
    case OutlierResult::kConnectFailure:
      return "connect_failure";
    case OutlierResult::kReset:
      return "reset";
    case OutlierResult::kTimeout:
      return "timeout";
  }
  return "unknown";
}

OutlierResult outlierResultForStatus(uint32_t status) {
  if (status == 502 || status == 503 || status == 504) return OutlierResult::kGatewayFailure;
  if (status >= 500 && status <= 599) return OutlierResult::k5xx;
  return OutlierResult::kSuccess;
}

std::optional<OutlierResult> outlierResultForFailure(FailureReason reason) {
  switch (reason) {
    case FailureReason::kConnectFailure:
    case FailureReason::kTlsFailure:
    case FailureReason::kDnsFailure:
      return OutlierResult::kConnectFailure;
    // A malformed or oversized answer ends the exchange like a reset does
    // (Envoy resets the stream and reports LocalOriginConnectFailed).
    case FailureReason::kReset:
    case FailureReason::kProtocolError:
    case FailureReason::kOverflow:
      return OutlierResult::kReset;
    case FailureReason::kTimeout:
      return OutlierResult::kTimeout;
    case FailureReason::kTooManyRedirects:
    // Our own circuit breaker, not the host's doing (Envoy does not count
    // overflows either).
    case FailureReason::kPoolOverflow:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace modgate::upstream
