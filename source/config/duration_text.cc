#include "source/config/duration_text.h"

#include <cstdint>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace modgate::config {

absl::StatusOr<std::string> DurationToProtoJson(absl::string_view text) {
  // google.protobuf.Duration's range: about +-10000 years.
  constexpr int64_t kMaxSeconds = 315576000000;
  absl::Duration duration;
  if (text == "inf" || text == "-inf" || text == "+inf" ||
      !absl::ParseDuration(std::string(text), &duration)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a duration such as \"5s\", \"1.5s\", \"250ms\" or \"1m30s\", got \"",
                     text, "\""));
  }
  absl::Duration remainder;
  int64_t seconds = absl::IDivDuration(duration, absl::Seconds(1), &remainder);
  int64_t nanos = absl::ToInt64Nanoseconds(remainder);
  if (seconds > kMaxSeconds || seconds < -kMaxSeconds) {
    return absl::InvalidArgumentError(absl::StrCat("duration \"", text, "\" is out of range"));
  }
  bool negative = seconds < 0 || nanos < 0;
  std::string out = negative ? "-" : "";
  absl::StrAppend(&out, std::llabs(seconds));
  if (nanos != 0) absl::StrAppend(&out, absl::StrFormat(".%09d", std::llabs(nanos)));
  absl::StrAppend(&out, "s");
  return out;
}

}  // namespace modgate::config
