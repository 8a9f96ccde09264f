#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "api/envoy/service/discovery/v3/discovery.pb.h"
#include "source/control_plane/session_event.h"
#include "source/control_plane/snapshot.h"

namespace modgate::control_plane {

// The incremental (DeltaAggregatedResources) protocol of one ADS stream, as a
// pure state machine like SotwSession. Per type it tracks what the client
// holds (name -> version) and sends only differences. Envoy's rules:
//  * resource_names_subscribe / _unsubscribe are honoured on every request,
//    stale nonce or not; the first request of a type with no names (or "*")
//    subscribes to all of it (wildcard);
//  * every name in resource_names_subscribe is answered even if the client
//    seems to have it; subscribed names that do not exist are listed in
//    removed_resources (once), as are held resources that went away;
//  * initial_resource_versions (the first request of a type on a
//    reconnected stream) says what the client already holds: only what
//    differs is sent;
//  * a request with a response_nonce (N)ACKs that response; one that is not
//    the response in flight is stale (its subscriptions still count);
//  * one response per type in flight; a NACKed resource version is not
//    resent until it changes.
// Each type's first request gets an answer even when nothing differs (an
// empty response), so a reconnected client learns it is in sync.
class DeltaSession {
 public:
  struct Output {
    std::vector<envoy::service::discovery::v3::DeltaDiscoveryResponse> responses;
    std::vector<SessionEvent> events;
  };

  DeltaSession(std::string control_plane_id, SnapshotConstPtr snapshot);

  absl::Status onRequest(const envoy::service::discovery::v3::DeltaDiscoveryRequest& request,
                         Output& output);
  void onSnapshot(SnapshotConstPtr snapshot, Output& output);

  bool inSync() const;
  const Snapshot& snapshot() const { return *snapshot_; }

 private:
  // The client holds a resource at this version; kAbsent: the client was
  // told the (subscribed) name does not exist.
  static inline const std::string kAbsent;
  struct TypeState {
    bool wildcard = false;
    std::set<std::string> names;              // explicit subscriptions
    std::map<std::string, std::string> held;  // what the client has
    // The response in flight: its nonce, and what it changes in `held`
    // once ACKed (a version, or kAbsent for a removal).
    std::string in_flight_nonce;
    std::map<std::string, std::string> in_flight_changes;
    uint64_t in_flight_generation = 0;
    // Versions the client NACKed, by name: not resent until they change.
    std::map<std::string, std::string> nacked;
    // Names whose resend was requested (subscribed again).
    std::set<std::string> must_send;
    uint64_t synced_generation = 0;
    std::string acked_version;
  };
  void maybeSend(const std::string& type_url, TypeState& state, bool force, Output& output);
  bool subscribed(const TypeState& state, const std::string& name) const {
    return state.wildcard || state.names.count(name) != 0;
  }

  const std::string control_plane_id_;
  SnapshotConstPtr snapshot_;
  std::map<std::string, TypeState> types_;
  uint64_t next_nonce_ = 1;
};

}  // namespace modgate::control_plane
