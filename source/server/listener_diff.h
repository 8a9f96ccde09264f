#pragma once

#include <cstddef>
#include <vector>

#include "api/modgate/config/v1/listener.pb.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace modgate::server {

// How a reload changes the listeners. A listener is identified by name and
// address together: one that keeps both keeps its sockets and connections;
// a new address under an old name is a removal plus an addition.
struct ListenerDiff {
  // Pairs of (index in the running config, index in the new config).
  std::vector<std::pair<size_t, size_t>> kept;
  std::vector<size_t> added;    // indices in the new config
  std::vector<size_t> removed;  // indices in the running config

  bool changed() const { return !added.empty() || !removed.empty(); }
};

ListenerDiff diffListeners(const google::protobuf::RepeatedPtrField<config::v1::Listener>& running,
                           const google::protobuf::RepeatedPtrField<config::v1::Listener>& next);

}  // namespace modgate::server
