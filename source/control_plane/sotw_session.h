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

// The state-of-the-world (StreamAggregatedResources) protocol of one ADS
// stream, as a pure state machine: requests and snapshots in, responses and
// events out; no sockets, no clock. Envoy's rules (xds_protocol.rst):
//  * every response has a nonce unique on the stream; a request whose
//    response_nonce is not the newest one sent for its type is stale and
//    ignored (the client will answer the newer response);
//  * ACK = response_nonce of the newest response and no error_detail;
//    NACK = error_detail set, version_info at the last accepted version;
//  * a response holds every resource of the type the client subscribes to
//    (empty resource_names: all): a missing resource is deleted;
//  * at most one response per type is in flight: a change that arrives
//    while one is unanswered goes out after its ACK/NACK, as the newest
//    state (intermediate states are skipped);
//  * nothing is sent when the client already has the version (never resend
//    unchanged state), nor a version the client NACKed, until it changes.
class SotwSession {
 public:
  struct Output {
    std::vector<envoy::service::discovery::v3::DiscoveryResponse> responses;
    std::vector<SessionEvent> events;
  };

  SotwSession(std::string control_plane_id, SnapshotConstPtr snapshot);

  // A request arrived. A non-OK status is a protocol error that ends the
  // stream (no type_url, or a type this server does not serve).
  absl::Status onRequest(const envoy::service::discovery::v3::DiscoveryRequest& request,
                         Output& output);
  // The node's desired config changed.
  void onSnapshot(SnapshotConstPtr snapshot, Output& output);

  // True when every subscribed type ACKed what the current snapshot holds
  // for it (or had nothing new to take from it).
  bool inSync() const;
  const Snapshot& snapshot() const { return *snapshot_; }

 private:
  struct TypeState {
    bool wildcard = true;
    std::set<std::string> names;
    std::string sent_version;  // of the newest response
    std::string sent_nonce;    // of the newest response
    uint64_t sent_generation = 0;
    bool in_flight = false;      // the newest response is not (N)ACKed yet
    std::string acked_version;   // what the client applied
    std::string nacked_version;  // not resent until the state changes
    uint64_t synced_generation = 0;
  };
  // The response `type` would get now, and its version.
  std::string versionFor(const std::string& type_url, const TypeState& state) const;
  void maybeSend(const std::string& type_url, TypeState& state, bool force, Output& output);

  const std::string control_plane_id_;
  SnapshotConstPtr snapshot_;
  std::map<std::string, TypeState> types_;
  uint64_t next_nonce_ = 1;
};

}  // namespace modgate::control_plane
