#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/modgate/config/v1/listener.pb.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "source/common/event/dispatcher.h"
#include "source/common/tls/server_context.h"
#include "source/server/config_watcher.h"

namespace modgate::server {

// The downstream TLS of every listener, on the main thread.
//
// Each listener name has one tls::ServerContextSlot for the life of the
// process, shared with the workers' listeners; what changes is the context
// in it. A reload builds every listener's context first (prepare: a missing
// file or a key that does not match its certificate rejects the reload,
// naming the field) and swaps them in at commit. The certificate, key and
// client CA files are also watched (their directories, as ConfigWatcher
// does for the config, so Kubernetes Secret "..data" swaps are seen): on a
// change every TLS listener is rebuilt from the same settings, and the ones
// whose files' contents changed get the new context. A half-written file
// fails to build and leaves the running context in place until the next
// change. Open connections keep the context they were accepted with.
class TlsListeners {
 public:
  using Listeners = google::protobuf::RepeatedPtrField<config::v1::Listener>;
  struct Prepared {
    // By listener name; null for a plain-HTTP listener.
    std::map<std::string, tls::ServerContextSharedPtr> contexts;
  };

  explicit TlsListeners(event::Dispatcher& main) : main_(main) {}

  absl::StatusOr<Prepared> prepare(const Listeners& listeners);
  // Installs prepared contexts and watches their files.
  void commit(const Listeners& listeners, Prepared prepared);
  // The slot of a listener named in the last commit.
  tls::ServerContextSlotSharedPtr slot(const std::string& name) const;
  // Re-reads every TLS listener's files (also called by the file watch).
  void refresh();

 private:
  struct Entry {
    config::v1::DownstreamTls config;
    tls::ServerContextSlotSharedPtr slot = std::make_shared<tls::ServerContextSlot>();
    // Kept while the rotation period is unchanged, so that reloads and
    // certificate swaps keep resumption working.
    std::shared_ptr<const tls::SessionTicketKeys> tickets;
  };
  absl::StatusOr<tls::ServerContextSharedPtr> build(const config::v1::DownstreamTls& config,
                                                    const std::string& name);
  void watchFiles();

  event::Dispatcher& main_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::unique_ptr<ConfigWatcher>> watchers_;  // by file
};

}  // namespace modgate::server
