#include "source/control_plane/control_plane_server.h"

#include <event2/event.h>
#include <prometheus/counter.h>
#include <prometheus/text_serializer.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/modgate/controlplane/v1/rollout_state.pb.h"
#include "source/common/common/logger.h"
#include "source/common/common/time.h"
#include "source/common/filesystem/atomic_file.h"
#include "source/common/network/address.h"
#include "source/control_plane/rollout_state_file.h"

namespace modgate::control_plane {
namespace {

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "modgate-control-plane";
  return name;
}

std::string RunningConfigRolloutPath(const std::string& state_dir) {
  return state_dir + "/config_rollout_running.json";
}

}  // namespace

ControlPlaneServer::ControlPlaneServer(controlplane::v1::ControlPlane config)
    : config_(std::move(config)) {
  if (config_.address().empty()) config_.set_address(std::string(kDefaultAddress));
  if (config_.admin_address().empty()) config_.set_admin_address(std::string(kDefaultAdminAddress));
  if (config_.identifier().empty()) config_.set_identifier(HostName());
  auto& reloads = prometheus::BuildCounter()
                      .Name("modgate_cp_config_reload_total")
                      .Help("Reads of the desired config directory, by result")
                      .Register(*registry_);
  reload_success_ = &reloads.Add({{"result", "success"}});
  reload_failure_ = &reloads.Add({{"result", "failure"}});
  ads_ = std::make_unique<AdsService>(fleet_, config_.identifier());
  ads_->registerMethods(services_);
  rollouts_ = std::make_unique<FleetRollouts>(
      dispatcher_, *registry_, config_.identifier(), [this] { publish(); }, config_.state_dir());
  config_rollout_ =
      std::make_unique<ConfigRollout>(dispatcher_, config_.config_rollout(), fleet_,
                                      [this](bool promoted) { onConfigRolloutDone(promoted); });
  reports_ = std::make_unique<ReportService>(
      fleet_, *rollouts_,
      [this](const std::string& node, const service::fleet::v1::Report& report) {
        config_rollout_->onReport(node, report);
      });
  reports_->registerMethods(services_);
  // xDS streams live for hours: no total body limit (each message is
  // bounded by the gRPC decoder).
  xds_settings_.codec.max_request_body_bytes = 0;
}

ControlPlaneServer::~ControlPlaneServer() {
  for (::event* signal : signals_) event_free(signal);
}

absl::Status ControlPlaneServer::initialize() {
  absl::Status status = ValidateControlPlane(config_);
  if (!status.ok()) return status;
  status = ConfigRollout::validate(config_.config_rollout());
  if (!status.ok()) return status;
  if (!config_.state_dir().empty()) {
    // Not fatal: the fleet is served as well without it; /rollouts shows
    // each rollout's failed save.
    absl::Status state_dir = filesystem::MakeDirectories(config_.state_dir() + "/rollouts");
    if (!state_dir.ok()) {
      LOG_WARN("state_dir: ", state_dir.message(),
               ": fleet rollouts will start over if the control plane restarts");
    }
  }
  reloadDesired();
  // (A version a config rollout stopped is held back: the control plane
  // runs, not ready, until the desired config changes.)
  if (desired_ == nullptr && stopped_digest_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("desired config:\n", last_error_));
  }
  registerAdmin();
  auto xds_address = network::parseAddress(config_.address());
  auto admin_address = network::parseAddress(config_.admin_address());
  if (!xds_address.ok() || !admin_address.ok()) {
    return absl::InvalidArgumentError("address: not a numeric ip:port");
  }
  transport_ =
      std::make_unique<XdsTransport>(dispatcher_, config_.has_tls() ? &config_.tls() : nullptr);
  if (absl::Status tls = transport_->initialize(); !tls.ok()) return tls;
  auto xds =
      http::HttpListener::create(dispatcher_, *xds_address, services_, xds_settings_,
                                 [this](event::Dispatcher& dispatcher, int fd, std::string remote) {
                                   return transport_->wrap(dispatcher, fd, std::move(remote));
                                 });
  if (!xds.ok())
    return absl::Status(xds.status().code(), absl::StrCat("address: ", xds.status().message()));
  xds_listener_ = std::move(*xds);
  auto admin = http::HttpListener::create(dispatcher_, *admin_address, admin_, admin_settings_);
  if (!admin.ok()) {
    return absl::Status(admin.status().code(),
                        absl::StrCat("admin_address: ", admin.status().message()));
  }
  admin_listener_ = std::move(*admin);
  const auto debounce =
      common::toMillisecondsOr(config_.debounce(), std::chrono::milliseconds(100));
  auto watcher = filesystem::DirectoryWatcher::create(
      dispatcher_, config_.config_dir(), [this] { reloadDesired(); }, debounce,
      std::max(debounce * 10, std::chrono::milliseconds(1000)));
  if (!watcher.ok()) return watcher.status();
  watcher_ = std::move(*watcher);
  LOG_INFO("control plane ", config_.identifier(), ": xDS on ",
           xds_listener_->localAddress().toString(),
           !transport_->tls()                       ? " (h2c)"
           : config_.tls().client_ca_file().empty() ? " (TLS)"
                                                    : " (mTLS)",
           ", admin on ", admin_listener_->localAddress().toString(), ", config from ",
           config_.config_dir(), ", state in ", config_.state_dir());
  return absl::OkStatus();
}

void ControlPlaneServer::reloadDesired() {
  const auto now = std::chrono::steady_clock::now();
  absl::StatusOr<DesiredConfig> loaded = LoadDesiredConfig(config_, generation_ + 1, now);
  if (!loaded.ok()) {
    last_error_ = std::string(loaded.status().message());
    last_error_ms_ = common::wallClockUnixMs();
    reload_failure_->Increment();
    LOG_ERROR("desired config rejected, still serving ",
              desired_ != nullptr ? desired_->base->version : std::string("nothing"), ":\n",
              last_error_);
    return;
  }
  reload_success_->Increment();
  last_error_.clear();
  std::optional<controlplane::v1::RunningConfigRollout> resumed;
  if (loaded_ == nullptr && stopped_digest_.empty()) {
    // First read since start: is it a version a config rollout stopped?
    stopped_digest_ = loadStoppedVersion(loaded->digest);
    // Or was one running? The nodes outside its share keep the version
    // before it, and it starts again.
    if (stopped_digest_.empty()) resumed = loadRunningConfigRollout(*loaded);
  }
  if (candidate_loaded_ != nullptr && loaded->digest == candidate_loaded_->digest) return;
  if (loaded_ != nullptr && loaded->digest == loaded_->digest) {
    if (candidate_loaded_ != nullptr) {
      config_rollout_->supersede("the desired config changed back to the version every node has");
      candidate_loaded_.reset();
      removeRunningConfigRollout();
      publish(true);
    }
    return;  // nothing changed
  }
  if (loaded->digest == stopped_digest_) return;  // not retried
  if (!stopped_digest_.empty()) saveStoppedVersion(nullptr);
  stopped_digest_.clear();
  last_change_ms_ = common::wallClockUnixMs();
  auto next = std::make_shared<const DesiredConfig>(std::move(*loaded));
  if (config_rollout_->enabled() && loaded_ != nullptr) {
    // To the canary nodes first; the others keep what they have.
    candidate_loaded_ = std::move(next);
    if (resumed.has_value() && resumed->candidate_digest() == candidate_loaded_->digest) {
      config_rollout_->resume(*resumed);
    } else {
      config_rollout_->start(desired_->base->version);
    }
    publish();
    saveRunningConfigRollout();
    LOG_INFO("desired config generation ", generation_, " version ", candidate_->base->version,
             " (", absl::StrJoin(candidate_loaded_->files, ", "), "): to the canary nodes first");
    return;
  }
  loaded_ = std::move(next);
  rollouts_->update(loaded_->base_config);
  publish();
  LOG_INFO("desired config generation ", generation_, " version ", desired_->base->version, " (",
           absl::StrJoin(desired_->files, ", "), ")");
}

void ControlPlaneServer::onConfigRolloutDone(bool promoted) {
  // A newer change may have superseded it, or started another, meanwhile.
  if (candidate_loaded_ == nullptr || config_rollout_->running()) return;
  if (promoted) {
    loaded_ = std::move(candidate_loaded_);
    rollouts_->update(loaded_->base_config);
  } else {
    stopped_digest_ = candidate_loaded_->digest;
    saveStoppedVersion(candidate_loaded_.get());
  }
  candidate_loaded_.reset();
  removeRunningConfigRollout();
  publish(/*new_generation=*/true);
}

std::string ControlPlaneServer::loadStoppedVersion(const std::string& digest) {
  if (config_.state_dir().empty()) return "";
  const std::string path = config_.state_dir() + "/config_rollout.json";
  controlplane::v1::StoppedConfigVersion stopped;
  absl::StatusOr<bool> found = LoadStateJson(path, "a stopped config version", stopped);
  if (!found.ok()) LOG_WARN(found.status().message(), ": ignored");
  if (!found.ok() || !*found || stopped.digest() != digest) return "";
  last_error_ = absl::StrCat(
      "version ", stopped.version(), " of the desired config was stopped by a config rollout (",
      stopped.reason(), "; ", path, "): not served to the fleet until the desired config changes");
  last_error_ms_ = common::wallClockUnixMs();
  LOG_ERROR(last_error_);
  return digest;
}

void ControlPlaneServer::saveStoppedVersion(const DesiredConfig* stopped) {
  if (config_.state_dir().empty()) return;
  const std::string path = config_.state_dir() + "/config_rollout.json";
  if (stopped == nullptr) {
    ::unlink(path.c_str());
    return;
  }
  controlplane::v1::StoppedConfigVersion saved;
  saved.set_digest(stopped->digest);
  saved.set_version(stopped->base->version);
  saved.set_reason(config_rollout_->status().reason());
  saved.set_stopped_at_ms(common::wallClockUnixMs());
  if (absl::Status status = SaveStateJson(path, saved); !status.ok()) {
    LOG_WARN("cannot save ", path, ": ", status.message(),
             " (a restarted control plane would serve the stopped version to every node)");
  }
}

std::optional<controlplane::v1::RunningConfigRollout> ControlPlaneServer::loadRunningConfigRollout(
    const DesiredConfig& read) {
  if (config_.state_dir().empty()) return std::nullopt;
  const std::string path = RunningConfigRolloutPath(config_.state_dir());
  controlplane::v1::RunningConfigRollout saved;
  absl::StatusOr<bool> found = LoadStateJson(path, "a running config rollout", saved);
  if (found.ok() && !*found) return std::nullopt;
  std::string unused;
  if (!found.ok()) {
    unused = std::string(found.status().message());
  } else if (!config_rollout_->enabled()) {
    unused = "config rollouts are off now";
  } else if (saved.previous_digest() == read.digest) {
    unused = "the desired config is the version before it again";
  } else {
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& file : saved.previous_files()) files.emplace_back(file.name(), file.content());
    absl::StatusOr<DesiredConfig> previous =
        BuildDesiredConfig(config_, path, files, generation_ + 1, std::chrono::steady_clock::now());
    if (!previous.ok()) {
      unused = absl::StrCat("its previous version: ", previous.status().message());
    } else {
      loaded_ = std::make_shared<const DesiredConfig>(std::move(*previous));
      rollouts_->update(loaded_->base_config);
      publish();
      LOG_WARN("a config rollout ran when the control plane stopped (", path,
               "): the nodes outside its canary share keep version ", desired_->base->version);
      return saved;
    }
  }
  LOG_WARN("config rollout state ", path, " not used (", unused, "): removed");
  removeRunningConfigRollout();
  return std::nullopt;
}

void ControlPlaneServer::saveRunningConfigRollout() {
  if (config_.state_dir().empty() || candidate_loaded_ == nullptr || loaded_ == nullptr) return;
  controlplane::v1::RunningConfigRollout state = config_rollout_->savedState();
  state.set_candidate_digest(candidate_loaded_->digest);
  state.set_previous_digest(loaded_->digest);
  for (size_t i = 0; i < loaded_->files.size(); ++i) {
    auto* file = state.add_previous_files();
    file->set_name(loaded_->files[i]);
    file->set_content(loaded_->contents[i]);
  }
  state.set_saved_at_ms(common::wallClockUnixMs());
  state.set_control_plane(config_.identifier());
  const std::string path = RunningConfigRolloutPath(config_.state_dir());
  if (absl::Status status = SaveStateJson(path, state); !status.ok()) {
    LOG_WARN("cannot save ", path, ": ", status.message(),
             " (a restarted control plane would serve the new version to every node)");
  }
}

void ControlPlaneServer::removeRunningConfigRollout() {
  if (!config_.state_dir().empty()) ::unlink(RunningConfigRolloutPath(config_.state_dir()).c_str());
}

namespace {
bool SameVersions(const DesiredConfig& a, const DesiredConfig& b) {
  if (a.base->version != b.base->version || a.groups.size() != b.groups.size()) return false;
  for (size_t i = 0; i < a.groups.size(); ++i) {
    if (a.groups[i].name != b.groups[i].name ||
        a.groups[i].snapshot->version != b.groups[i].snapshot->version) {
      return false;
    }
  }
  return true;
}
}  // namespace

void ControlPlaneServer::publish(bool new_generation) {
  if (loaded_ == nullptr) return;
  const auto now = std::chrono::steady_clock::now();
  auto stamp = [this](config::v1::Bootstrap& config) { rollouts_->stamp(config); };
  bool changed = false;
  DesiredConfig next = RebuildDesired(*loaded_, stamp, generation_ + 1, now);
  if (new_generation || desired_ == nullptr || !SameVersions(next, *desired_)) {
    generation_++;
    desired_ = std::make_shared<const DesiredConfig>(std::move(next));
    rollouts_->onPublished(generation_, desired_->base->version);
    changed = true;
  }
  if (candidate_loaded_ != nullptr) {
    // Always a newer generation than what the other nodes are served.
    DesiredConfig candidate = RebuildDesired(*candidate_loaded_, stamp, generation_ + 1, now);
    if (changed || candidate_ == nullptr || !SameVersions(candidate, *candidate_)) {
      generation_++;
      candidate_ = std::make_shared<const DesiredConfig>(std::move(candidate));
      config_rollout_->onRepublished(generation_, candidate_->base->version);
      changed = true;
    }
  } else if (candidate_ != nullptr) {
    candidate_.reset();
    changed = true;
  }
  if (changed) {
    ads_->setDesired(desired_, candidate_, [this](const std::string& node_id) {
      return config_rollout_->isCanary(node_id);
    });
  }
  auto ceiling =
      common::toMillisecondsOr(config_.report_interval(), std::chrono::milliseconds(10000));
  if (config_rollout_->running()) {
    ceiling = std::min(ceiling, config_rollout_->evaluationInterval());
  }
  reports_->setInterval(rollouts_->reportInterval(ceiling));
}

admin::v1::ControlPlaneStatus ControlPlaneServer::status() const {
  admin::v1::ControlPlaneStatus status;
  status.set_identifier(config_.identifier());
  status.set_config_dir(config_.config_dir());
  status.set_generation(static_cast<uint32_t>(generation_));
  status.set_changed_at_ms(static_cast<double>(last_change_ms_));
  if (desired_ != nullptr) {
    status.set_version(desired_->base->version);
    for (const std::string& file : desired_->files) status.add_files(file);
    for (const auto& group : desired_->groups) {
      (*status.mutable_groups())[group.name] = group.snapshot->version;
    }
  }
  if (!last_error_.empty()) {
    status.mutable_last_error()->set_message(last_error_);
    status.mutable_last_error()->set_at_ms(static_cast<double>(last_error_ms_));
  }
  return status;
}

void ControlPlaneServer::registerAdmin() {
  using Response = admin::Admin::Response;
  admin_.addHandler("/ready", "200 once a valid desired config is being served", false,
                    [this](std::string_view) {
                      if (desired_ == nullptr)
                        return Response{503, "text/plain; charset=utf-8", "NOT READY\n"};
                      return Response{200, "text/plain; charset=utf-8", "READY\n"};
                    });
  admin_.addHandler(
      "/fleet", "every node: id, labels, address, ACKed versions, last NACK", false,
      [this](std::string_view) { return admin::Admin::jsonResponse(fleet_.status()); });
  admin_.addHandler("/status", "the desired config served and the last rejected one", false,
                    [this](std::string_view) { return admin::Admin::jsonResponse(status()); });
  admin_.addHandler("/rollouts",
                    "fleet rollouts: state, stage, weight, fleet aggregates, gates, history", false,
                    [this](std::string_view) {
                      admin::v1::Rollouts status = rollouts_->status(fleet_);
                      if (config_rollout_->enabled())
                        *status.mutable_config_rollout() = config_rollout_->status();
                      return admin::Admin::jsonResponse(status);
                    });
  for (const char* op : {"pause", "resume", "advance", "abort", "restart"}) {
    admin_.addHandler(absl::StrCat("/rollout/", op),
                      absl::StrCat(op, " a fleet rollout: ?route=NAME[&reason=TEXT]"), true,
                      [this, op](std::string_view query) { return rollouts_->control(op, query); });
  }
  for (const char* op : {"abort", "promote"}) {
    admin_.addHandler(
        absl::StrCat("/config_rollout/", op),
        absl::StrCat(op, " the running config rollout now: [?reason=TEXT]"), true,
        [this, op](std::string_view query) { return config_rollout_->control(op, query); });
  }
  admin_.addHandler("/stats/prometheus", "metrics in the Prometheus text format", false,
                    [this](std::string_view) {
                      prometheus::TextSerializer serializer;
                      return Response{200, "text/plain; version=0.0.4; charset=utf-8",
                                      serializer.Serialize(registry_->Collect())};
                    });
}

void ControlPlaneServer::run() {
  for (int number : {SIGTERM, SIGINT}) {
    ::event* signal = evsignal_new(
        &dispatcher_.base(), number,
        [](int, short, void* arg) { static_cast<event::Dispatcher*>(arg)->exit(); }, &dispatcher_);
    evsignal_add(signal, nullptr);
    signals_.push_back(signal);
  }
  ::signal(SIGPIPE, SIG_IGN);
  dispatcher_.run();
  LOG_INFO("control plane stopping");
  watcher_.reset();
  if (xds_listener_ != nullptr) xds_listener_->drain();
  if (admin_listener_ != nullptr) admin_listener_->drain();
}

}  // namespace modgate::control_plane
