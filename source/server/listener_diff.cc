#include "source/server/listener_diff.h"

namespace modgate::server {

ListenerDiff diffListeners(const google::protobuf::RepeatedPtrField<config::v1::Listener>& running,
                           const google::protobuf::RepeatedPtrField<config::v1::Listener>& next) {
  ListenerDiff diff;
  std::vector<bool> matched(running.size(), false);
  for (int n = 0; n < next.size(); ++n) {
    bool found = false;
    for (int r = 0; r < running.size(); ++r) {
      if (!matched[r] && running[r].name() == next[n].name() &&
          running[r].address() == next[n].address()) {
        matched[r] = true;
        diff.kept.emplace_back(r, n);
        found = true;
        break;
      }
    }
    if (!found) diff.added.push_back(n);
  }
  for (int r = 0; r < running.size(); ++r) {
    if (!matched[r]) diff.removed.push_back(r);
  }
  return diff;
}

}  // namespace modgate::server
