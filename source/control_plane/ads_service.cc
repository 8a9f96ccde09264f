#include "source/control_plane/ads_service.h"

#include <vector>

#include "source/common/common/logger.h"
#include "source/control_plane/delta_session.h"
#include "source/control_plane/sotw_session.h"

namespace modgate::control_plane {
namespace {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryRequest;

// What differs between the two protocols, for AdsStream.
struct SotwTraits {
  using Session = SotwSession;
  using Request = DiscoveryRequest;
  static constexpr const char* kName = "sotw";
};
struct DeltaTraits {
  using Session = DeltaSession;
  using Request = DeltaDiscoveryRequest;
  static constexpr const char* kName = "delta";
};

// One ADS stream: parses requests, drives the session, sends its
// responses, and tells the Fleet.
template <typename Traits>
class AdsStream : public grpc::ServerStreamHandler, public AdsService::Stream {
 public:
  AdsStream(AdsService& service, grpc::ServerStream& stream) : service_(service), stream_(stream) {}
  ~AdsStream() override { detach(); }

  void onMessage(std::string bytes) override {
    typename Traits::Request request;
    if (!request.ParseFromString(bytes)) {
      finish(absl::InvalidArgumentError("cannot parse the xDS request"));
      return;
    }
    typename Traits::Session::Output output;
    if (session_ == nullptr) {
      if (!request.has_node() || request.node().id().empty()) {
        finish(absl::InvalidArgumentError("the first request of a stream must carry node.id"));
        return;
      }
      if (service_.desired() == nullptr) {
        finish(absl::UnavailableError("the control plane has no valid config yet"));
        return;
      }
      node_proto_ = request.node();
      std::string group;
      SnapshotConstPtr snapshot =
          service_.desiredFor(node_proto_).snapshotPtrFor(node_proto_, &group);
      session_ = std::make_unique<typename Traits::Session>(service_.identifier(), snapshot);
      node_ = &service_.fleet().connect(node_proto_, stream_.remoteAddress(), Traits::kName, group);
      service_.add(*this);
      LOG_INFO("xds: node ", node_proto_.id(), " connected from ", stream_.remoteAddress(), " (",
               Traits::kName, group.empty() ? "" : ", group ", group, ")");
    }
    absl::Status status = session_->onRequest(request, output);
    if (!status.ok()) {
      finish(status);
      return;
    }
    deliver(output);
  }

  void onDesired() override {
    if (session_ == nullptr) return;
    SnapshotConstPtr snapshot = service_.desiredFor(node_proto_).snapshotPtrFor(node_proto_);
    typename Traits::Session::Output output;
    session_->onSnapshot(std::move(snapshot), output);
    deliver(output);
  }

  void onRemoteClose(grpc::ServerStream& stream) override { finish(absl::OkStatus()); }
  void onStreamGone() override { detach(); }

 private:
  void deliver(typename Traits::Session::Output& output) {
    for (const SessionEvent& event : output.events) {
      service_.fleet().onEvent(*node_, event);
      if (event.kind == SessionEvent::Kind::kNack) {
        LOG_WARN("xds: node ", node_proto_.id(), " rejected ", event.type_url, " (kept version ",
                 event.version, "): ", event.message);
      }
    }
    for (const auto& response : output.responses) {
      if (!stream_.open() || node_ == nullptr) return;
      service_.fleet().onPush(*node_, response.type_url(), response.resources_size());
      stream_.sendMessage(response);
    }
    if (node_ != nullptr && session_->inSync())
      service_.fleet().onSynced(*node_, session_->snapshot().generation);
  }

  void finish(const absl::Status& status) {
    stream_.finish(status);
    detach();
  }

  void detach() {
    if (node_ == nullptr) return;
    LOG_INFO("xds: node ", node_proto_.id(), " disconnected");
    service_.remove(*this);
    service_.fleet().disconnect(*node_);
    node_ = nullptr;
  }

  AdsService& service_;
  grpc::ServerStream& stream_;
  envoy::config::core::v3::Node node_proto_;
  std::unique_ptr<typename Traits::Session> session_;
  Fleet::Node* node_ = nullptr;
};

}  // namespace

AdsService::AdsService(Fleet& fleet, std::string identifier)
    : fleet_(fleet), identifier_(std::move(identifier)) {}

AdsService::~AdsService() = default;

void AdsService::registerMethods(grpc::ServiceTable& services) {
  services.addMethod(std::string(kSotwMethod), [this](grpc::ServerStream& stream) {
    return std::make_unique<AdsStream<SotwTraits>>(*this, stream);
  });
  services.addMethod(std::string(kDeltaMethod), [this](grpc::ServerStream& stream) {
    return std::make_unique<AdsStream<DeltaTraits>>(*this, stream);
  });
}

const DesiredConfig& AdsService::desiredFor(const envoy::config::core::v3::Node& node) const {
  if (candidate_ != nullptr && is_candidate_node_ && is_candidate_node_(node.id())) {
    return *candidate_;
  }
  return *desired_;
}

void AdsService::setDesired(std::shared_ptr<const DesiredConfig> desired,
                            std::shared_ptr<const DesiredConfig> candidate,
                            std::function<bool(const std::string&)> is_candidate_node) {
  const bool new_generation =
      desired != nullptr &&
      (desired_ == nullptr || desired->base->generation != desired_->base->generation);
  desired_ = std::move(desired);
  candidate_ = std::move(candidate);
  is_candidate_node_ = std::move(is_candidate_node);
  if (new_generation)
    fleet_.onNewGeneration(desired_->base->generation, desired_->base->changed_at);
  // A stream may finish (and leave the set) while being told.
  std::vector<Stream*> streams(streams_.begin(), streams_.end());
  for (Stream* stream : streams) {
    if (streams_.count(stream) != 0) stream->onDesired();
  }
}

}  // namespace modgate::control_plane
