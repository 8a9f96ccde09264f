#include "source/upstream/health/health_check_options.h"

namespace modgate::upstream {

bool isExpectedStatus(const std::vector<StatusRange>& ranges, uint32_t status) {
  if (ranges.empty()) return status == 200;
  for (const StatusRange& range : ranges) {
    // An unset end means the single code `start`, as cluster.proto's
    // ApplyDefaults would fill in.
    uint32_t end = range.end == 0 ? range.start + 1 : range.end;
    if (status >= range.start && status < end) return true;
  }
  return false;
}

}  // namespace modgate::upstream
