#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "api/modgate/config/v1/bootstrap.pb.h"
#include "source/common/event/dispatcher.h"
#include "source/filters/auth/auth_filter.h"
#include "source/filters/policy/module_policy.h"
#include "source/server/config_watcher.h"

namespace modgate::server {

// Builds the auth and module-policy snapshots from the config, on the main
// thread, and hands them to the workers through `publish`. The credentials
// file is watched like the config file: when it changes it is parsed again
// and, if it parses, a new auth snapshot is published; if not, the running
// credentials stay and the error is logged (naming the line, never a
// secret).
class SecurityFilters {
 public:
  struct Snapshot {
    filters::auth::AuthConfigSharedPtr auth;        // null: no auth stage
    filters::policy::ModulePolicySharedPtr policy;  // null: no policy stage
  };
  using PublishCb = std::function<void(const Snapshot&)>;

  SecurityFilters(event::Dispatcher& main, PublishCb publish)
      : main_(main), publish_(std::move(publish)) {}

  // Reads the credentials file; errors name the field.
  absl::StatusOr<Snapshot> prepare(const config::v1::Bootstrap& bootstrap) const;
  void commit(const config::v1::Bootstrap& bootstrap, Snapshot snapshot);
  const Snapshot& current() const { return current_; }

 private:
  void onCredentialsChanged();

  event::Dispatcher& main_;
  PublishCb publish_;
  Snapshot current_;
  std::string credentials_file_;
  std::unique_ptr<ConfigWatcher> watcher_;
};

}  // namespace modgate::server
