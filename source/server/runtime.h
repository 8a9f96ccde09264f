#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "api/modgate/admin/v1/runtime.pb.h"

namespace modgate::server {

// Named integer knobs changed without a config file (Envoy's runtime, two
// layers): the config's `runtime` map is the static layer, and admin
// overrides (POST /runtime) sit on top. A reload replaces the static layer
// only, so an override outlives reloads until it is removed. Main thread.
class Runtime {
 public:
  void setStaticLayer(std::map<std::string, uint64_t> values) { static_ = std::move(values); }

  // Sets an override; an empty `value` removes it. Errors name the problem
  // (bad key, not a non-negative integer).
  absl::Status setOverride(std::string_view key, std::string_view value);

  // Both layers merged, overrides winning.
  std::map<std::string, uint64_t> snapshot() const;

  // The body of GET /runtime: both layers and what they add up to.
  admin::v1::RuntimeValues status() const;

 private:
  std::map<std::string, uint64_t> static_;
  std::map<std::string, uint64_t> overrides_;
};

}  // namespace modgate::server
