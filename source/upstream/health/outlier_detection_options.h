#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace modgate::upstream {

// Passive health checking of one cluster. Mirrors
// modgate.config.v1.OutlierDetection with Envoy's defaults already applied,
// so that this library does not depend on the config protos; a later step
// maps the message into it. Percentages are 0..100 (larger counts as 100).
struct OutlierDetectionOptions {
  // Consecutive 5xx answers (and, unless split, local-origin failures) that
  // eject a host.
  uint32_t consecutive_5xx = 5;
  // Time between sweeps that bring ejected hosts back and age the ejection
  // multiplier.
  std::chrono::milliseconds interval{10000};
  // One ejection lasts base_ejection_time times the host's ejection
  // multiplier, capped by max_ejection_time.
  std::chrono::milliseconds base_ejection_time{30000};
  std::chrono::milliseconds max_ejection_time{300000};
  // Share of the cluster's hosts that may be out at once (see
  // OutlierDetector for the exact rule).
  uint32_t max_ejection_percent = 10;
  // Chance, in percent, that a detection actually ejects.
  uint32_t enforcing_consecutive_5xx = 100;
  // Consecutive 502/503/504 answers (and, unless split, local-origin
  // failures) that eject a host; by default only counted (enforcing 0), as
  // in Envoy.
  uint32_t consecutive_gateway_failure = 5;
  uint32_t enforcing_consecutive_gateway_failure = 0;
  // Count connect failures, resets and timeouts on their own instead of as
  // 503/504 answers.
  bool split_external_local_origin_errors = false;
  uint32_t consecutive_local_origin_failure = 5;
  uint32_t enforcing_consecutive_local_origin_failure = 100;
};

// How long an ejection lasts at `multiplier`: base_ejection_time x
// multiplier, capped by max_ejection_time (never below one base time).
inline std::chrono::milliseconds EjectionDuration(const OutlierDetectionOptions& options,
                                                  uint32_t multiplier) {
  return std::min(options.base_ejection_time * multiplier,
                  std::max(options.base_ejection_time, options.max_ejection_time));
}

}  // namespace modgate::upstream
