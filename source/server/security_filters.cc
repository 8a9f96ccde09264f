#include "source/server/security_filters.h"

#include "absl/strings/str_cat.h"
#include "source/common/common/logger.h"
#include "source/router/route_table.h"

namespace modgate::server {
namespace {

uint32_t kindMask(const google::protobuf::RepeatedField<int>& kinds) {
  uint32_t mask = 0;
  for (int kind : kinds) {
    switch (kind) {
      case config::v1::RouteMatch::LIST:
        mask |= router::kKindList;
        break;
      case config::v1::RouteMatch::INFO:
        mask |= router::kKindInfo;
        break;
      case config::v1::RouteMatch::MOD:
        mask |= router::kKindMod;
        break;
      case config::v1::RouteMatch::ZIP:
        mask |= router::kKindZip;
        break;
      case config::v1::RouteMatch::LATEST:
        mask |= router::kKindLatest;
        break;
      case config::v1::RouteMatch::SUMDB:
        mask |= router::kKindSumdb;
        break;
      default:
        break;
    }
  }
  return mask;
}

// Whether anything in the config looks at who is asking.
bool usesIdentity(const config::v1::Bootstrap& bootstrap) {
  if (bootstrap.has_client_auth() || !bootstrap.module_policies().empty()) return true;
  for (const auto& listener : bootstrap.listeners()) {
    if (listener.require_auth() || !listener.tls().client_ca_file().empty()) return true;
  }
  for (const auto& route : bootstrap.routes()) {
    if (route.require_auth() || !route.match().principals().empty()) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<SecurityFilters::Snapshot> SecurityFilters::prepare(
    const config::v1::Bootstrap& bootstrap) const {
  Snapshot snapshot;
  if (usesIdentity(bootstrap)) {
    auto auth = std::make_shared<filters::auth::AuthConfig>();
    if (bootstrap.has_client_auth()) {
      const auto& client_auth = bootstrap.client_auth();
      if (!client_auth.realm().empty()) auth->realm = client_auth.realm();
      auto credentials = filters::auth::Credentials::load(client_auth.credentials_file());
      if (!credentials.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("client_auth.credentials_file: ", credentials.status().message()));
      }
      auth->credentials = std::move(*credentials);
    }
    for (const auto& listener : bootstrap.listeners()) {
      if (listener.require_auth()) auth->required_listeners.insert(listener.name());
    }
    snapshot.auth = std::move(auth);
  }
  if (!bootstrap.module_policies().empty()) {
    std::vector<filters::policy::PolicyRule> rules;
    for (const auto& proto : bootstrap.module_policies()) {
      filters::policy::PolicyRule rule;
      rule.name = proto.name();
      rule.deny = proto.action() != config::v1::ModulePolicy::ALLOW;
      rule.modules = proto.modules();
      rule.versions.insert(proto.versions().begin(), proto.versions().end());
      rule.pseudo_versions = proto.pseudo_versions();
      rule.retracted = proto.retracted();
      rule.hide_only = proto.hide_only();
      rule.kinds = kindMask(proto.kinds());
      rule.principals.assign(proto.principals().begin(), proto.principals().end());
      rule.anonymous = proto.anonymous();
      rules.push_back(std::move(rule));
    }
    snapshot.policy = std::make_shared<filters::policy::ModulePolicy>(std::move(rules));
  }
  return snapshot;
}

void SecurityFilters::commit(const config::v1::Bootstrap& bootstrap, Snapshot snapshot) {
  current_ = std::move(snapshot);
  publish_(current_);
  const std::string file =
      bootstrap.has_client_auth() ? bootstrap.client_auth().credentials_file() : "";
  if (file == credentials_file_) return;
  credentials_file_ = file;
  watcher_.reset();
  if (file.empty()) return;
  auto watcher = ConfigWatcher::create(main_, file, [this] { onCredentialsChanged(); });
  if (!watcher.ok()) {
    LOG_WARN("changes of ", file, " are not followed: ", std::string(watcher.status().message()));
    return;
  }
  watcher_ = std::move(*watcher);
}

void SecurityFilters::onCredentialsChanged() {
  if (current_.auth == nullptr || credentials_file_.empty()) return;
  auto credentials = filters::auth::Credentials::load(credentials_file_);
  if (!credentials.ok()) {
    LOG_WARN("credentials file changed but is not used: ",
             std::string(credentials.status().message()));
    return;
  }
  auto auth = std::make_shared<filters::auth::AuthConfig>(*current_.auth);
  auth->credentials = std::move(*credentials);
  current_.auth = std::move(auth);
  publish_(current_);
  LOG_INFO("credentials reloaded from ", credentials_file_, " (",
           current_.auth->credentials->size(), " entries)");
}

}  // namespace modgate::server
