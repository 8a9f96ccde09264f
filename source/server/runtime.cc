#include "source/server/runtime.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "source/config/validator.h"

namespace modgate::server {
absl::Status Runtime::setOverride(std::string_view key_view, std::string_view value_view) {
  // Debian's abseil has its own string_view.
  const absl::string_view key(key_view.data(), key_view.size());
  const absl::string_view value(value_view.data(), value_view.size());
  if (!config::IsRuntimeKey(key)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid runtime key \"", key, "\" (dot-separated segments of a-z 0-9 _ -)"));
  }
  if (value.empty()) {
    overrides_.erase(std::string(key));
    return absl::OkStatus();
  }
  uint64_t number = 0;
  if (!absl::SimpleAtoi(value, &number) || value.front() == '-' || value.front() == '+') {
    return absl::InvalidArgumentError(
        absl::StrCat(key, ": \"", value, "\" is not a non-negative integer"));
  }
  overrides_[std::string(key)] = number;
  return absl::OkStatus();
}

std::map<std::string, uint64_t> Runtime::snapshot() const {
  std::map<std::string, uint64_t> merged = static_;
  for (const auto& [key, value] : overrides_) merged[key] = value;
  return merged;
}

admin::v1::RuntimeValues Runtime::status() const {
  admin::v1::RuntimeValues out;
  auto fill = [](const std::map<std::string, uint64_t>& values,
                 google::protobuf::Map<std::string, double>* to) {
    for (const auto& [key, value] : values) (*to)[key] = static_cast<double>(value);
  };
  fill(static_, out.mutable_static_());
  fill(overrides_, out.mutable_overrides());
  fill(snapshot(), out.mutable_effective());
  return out;
}

}  // namespace modgate::server
