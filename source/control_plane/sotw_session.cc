#include "source/control_plane/sotw_session.h"

#include "absl/strings/str_cat.h"

namespace modgate::control_plane {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

SotwSession::SotwSession(std::string control_plane_id, SnapshotConstPtr snapshot)
    : control_plane_id_(std::move(control_plane_id)), snapshot_(std::move(snapshot)) {}

std::string SotwSession::versionFor(const std::string& type_url, const TypeState& state) const {
  const TypeSnapshot* type = snapshot_->find(type_url);
  if (type == nullptr) return "";
  if (state.wildcard) return type->version;
  // A named subscription: a version over just those names (absent ones
  // included, so that one appearing changes it).
  std::string summary;
  for (const std::string& name : state.names) {
    auto it = type->resources.find(name);
    summary.append(name).append(1, '\0');
    if (it != type->resources.end()) summary.append(it->second.version);
    summary.append(1, '\n');
  }
  return ContentVersion(summary);
}

absl::Status SotwSession::onRequest(const DiscoveryRequest& request, Output& output) {
  const std::string& type_url = request.type_url();
  if (type_url.empty()) return absl::InvalidArgumentError("DiscoveryRequest without type_url");
  if (!IsKnownType(type_url)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown resource type ", type_url));
  }
  auto [it, first] = types_.try_emplace(type_url);
  TypeState& state = it->second;
  const std::string& nonce = request.response_nonce();
  if (!first && !nonce.empty() && nonce != state.sent_nonce) {
    return absl::OkStatus();  // stale: the client has a newer response to answer
  }
  if (!nonce.empty() && nonce == state.sent_nonce && state.in_flight) {
    state.in_flight = false;
    SessionEvent event;
    event.type_url = type_url;
    event.nonce = nonce;
    event.generation = state.sent_generation;
    if (request.has_error_detail()) {
      event.kind = SessionEvent::Kind::kNack;
      event.version = request.version_info();
      event.message = request.error_detail().message();
      state.nacked_version = state.sent_version;
    } else {
      event.kind = SessionEvent::Kind::kAck;
      event.version = request.version_info();
      state.acked_version = state.sent_version;
      state.nacked_version.clear();
      state.synced_generation = state.sent_generation;
    }
    output.events.push_back(std::move(event));
  }
  // The subscription, as of this request (SotW requests restate it fully).
  const bool wildcard = request.resource_names_size() == 0 ||
                        (request.resource_names_size() == 1 && request.resource_names(0) == "*");
  std::set<std::string> names;
  if (!wildcard) names.insert(request.resource_names().begin(), request.resource_names().end());
  const bool subscription_changed = wildcard != state.wildcard || names != state.names;
  state.wildcard = wildcard;
  state.names = std::move(names);
  // The first request of a type always gets an answer (a client waits for
  // one per type), and so does a new subscription; an ACK/NACK only when
  // the state moved on while the response was in flight.
  maybeSend(type_url, state, /*force=*/first || subscription_changed, output);
  return absl::OkStatus();
}

void SotwSession::onSnapshot(SnapshotConstPtr snapshot, Output& output) {
  snapshot_ = std::move(snapshot);
  for (auto& [type_url, state] : types_) maybeSend(type_url, state, false, output);
}

void SotwSession::maybeSend(const std::string& type_url, TypeState& state, bool force,
                            Output& output) {
  if (state.in_flight) return;  // one at a time; the ACK/NACK brings us back
  const std::string version = versionFor(type_url, state);
  const bool client_has_it = !state.sent_nonce.empty() && version == state.acked_version;
  if (!force && (client_has_it || version == state.nacked_version)) {
    if (client_has_it) state.synced_generation = snapshot_->generation;
    return;
  }
  DiscoveryResponse& response = output.responses.emplace_back();
  response.set_version_info(version);
  response.set_type_url(type_url);
  response.set_nonce(std::to_string(next_nonce_++));
  response.mutable_control_plane()->set_identifier(control_plane_id_);
  if (const TypeSnapshot* type = snapshot_->find(type_url)) {
    for (const auto& [name, resource] : type->resources) {
      if (state.wildcard || state.names.count(name) != 0) {
        *response.add_resources() = resource.body;
      }
    }
  }
  state.sent_version = version;
  state.sent_nonce = response.nonce();
  state.sent_generation = snapshot_->generation;
  state.in_flight = true;
}

bool SotwSession::inSync() const {
  for (const auto& [type_url, state] : types_) {
    if (state.in_flight || state.synced_generation < snapshot_->generation) return false;
  }
  return true;
}

}  // namespace modgate::control_plane
