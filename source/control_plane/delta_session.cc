#include "source/control_plane/delta_session.h"

#include "absl/strings/str_cat.h"

namespace modgate::control_plane {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;

DeltaSession::DeltaSession(std::string control_plane_id, SnapshotConstPtr snapshot)
    : control_plane_id_(std::move(control_plane_id)), snapshot_(std::move(snapshot)) {}

absl::Status DeltaSession::onRequest(const DeltaDiscoveryRequest& request, Output& output) {
  const std::string& type_url = request.type_url();
  if (type_url.empty()) return absl::InvalidArgumentError("DeltaDiscoveryRequest without type_url");
  if (!IsKnownType(type_url)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown resource type ", type_url));
  }
  auto [it, first] = types_.try_emplace(type_url);
  TypeState& state = it->second;

  // Subscriptions count whatever the nonce says.
  if (first && request.resource_names_subscribe_size() == 0) state.wildcard = true;
  for (const std::string& name : request.resource_names_subscribe()) {
    if (name == "*") {
      state.wildcard = true;
      continue;
    }
    state.names.insert(name);
    // Answered even if the client seems to hold it (it may have dropped it).
    if (!first) state.must_send.insert(name);
  }
  for (const std::string& name : request.resource_names_unsubscribe()) {
    if (name == "*") {
      state.wildcard = false;
    } else {
      state.names.erase(name);
      state.must_send.erase(name);
    }
    // The client drops what it no longer wants; nothing to remove later.
    if (!subscribed(state, name)) state.held.erase(name);
  }
  if (!state.wildcard) {
    for (auto held = state.held.begin(); held != state.held.end();) {
      held = subscribed(state, held->first) ? std::next(held) : state.held.erase(held);
    }
  }
  if (first) {
    for (const auto& [name, version] : request.initial_resource_versions()) {
      if (subscribed(state, name)) state.held[name] = version;
    }
  }

  const std::string& nonce = request.response_nonce();
  if (!nonce.empty() && nonce == state.in_flight_nonce) {
    SessionEvent event;
    event.type_url = type_url;
    event.nonce = nonce;
    event.generation = state.in_flight_generation;
    if (request.has_error_detail()) {
      event.kind = SessionEvent::Kind::kNack;
      event.version = state.acked_version;
      event.message = request.error_detail().message();
      for (const auto& [name, version] : state.in_flight_changes) state.nacked[name] = version;
    } else {
      event.kind = SessionEvent::Kind::kAck;
      for (const auto& [name, version] : state.in_flight_changes) {
        state.nacked.erase(name);
        if (version.empty() && !subscribed(state, name)) {
          state.held.erase(name);
        } else if (subscribed(state, name)) {
          state.held[name] = version;
        }
      }
      const TypeSnapshot* type = snapshot_->find(type_url);
      state.acked_version = type != nullptr ? type->version : "";
      event.version = state.acked_version;
      state.synced_generation = state.in_flight_generation;
    }
    state.in_flight_nonce.clear();
    state.in_flight_changes.clear();
    output.events.push_back(std::move(event));
  }
  maybeSend(type_url, state, first, output);
  return absl::OkStatus();
}

void DeltaSession::onSnapshot(SnapshotConstPtr snapshot, Output& output) {
  snapshot_ = std::move(snapshot);
  for (auto& [type_url, state] : types_) maybeSend(type_url, state, false, output);
}

void DeltaSession::maybeSend(const std::string& type_url, TypeState& state, bool force,
                             Output& output) {
  if (!state.in_flight_nonce.empty()) return;  // one at a time
  const TypeSnapshot* type = snapshot_->find(type_url);
  static const TypeSnapshot kEmpty;
  if (type == nullptr) type = &kEmpty;

  std::map<std::string, std::string> changes;
  bool blocked_by_nack = false;
  DeltaDiscoveryResponse response;
  // Added or changed resources the client subscribes to.
  for (const auto& [name, resource] : type->resources) {
    if (!subscribed(state, name)) continue;
    auto held = state.held.find(name);
    const bool has_it = held != state.held.end() && held->second == resource.version;
    if (has_it && state.must_send.count(name) == 0) continue;
    auto nacked = state.nacked.find(name);
    if (nacked != state.nacked.end() && nacked->second == resource.version &&
        state.must_send.count(name) == 0) {
      blocked_by_nack = true;
      continue;
    }
    auto* out = response.add_resources();
    out->set_name(name);
    out->set_version(resource.version);
    *out->mutable_resource() = resource.body;
    changes[name] = resource.version;
  }
  // Held resources that went away, and subscribed names that do not exist
  // (told once: kAbsent is then held).
  for (const auto& [name, version] : state.held) {
    if (version != kAbsent && type->resources.count(name) == 0) {
      response.add_removed_resources(name);
      changes[name] = kAbsent;
    }
  }
  for (const std::string& name : state.names) {
    if (type->resources.count(name) != 0) continue;
    auto held = state.held.find(name);
    if (held == state.held.end() || state.must_send.count(name) != 0) {
      if (changes.count(name) == 0) response.add_removed_resources(name);
      changes[name] = kAbsent;
    }
  }
  state.must_send.clear();
  if (changes.empty() && !force) {
    if (!blocked_by_nack) state.synced_generation = snapshot_->generation;
    return;
  }
  response.set_system_version_info(type->version);
  response.set_type_url(type_url);
  response.set_nonce(std::to_string(next_nonce_++));
  response.mutable_control_plane()->set_identifier(control_plane_id_);
  state.in_flight_nonce = response.nonce();
  state.in_flight_changes = std::move(changes);
  state.in_flight_generation = snapshot_->generation;
  output.responses.push_back(std::move(response));
}

bool DeltaSession::inSync() const {
  for (const auto& [type_url, state] : types_) {
    if (!state.in_flight_nonce.empty() || state.synced_generation < snapshot_->generation) {
      return false;
    }
  }
  return true;
}

}  // namespace modgate::control_plane
