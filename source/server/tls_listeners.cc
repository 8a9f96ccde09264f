#include "source/server/tls_listeners.h"

#include "absl/strings/str_cat.h"
#include "source/common/common/logger.h"
#include "source/config/tls_context_config.h"

namespace modgate::server {

absl::StatusOr<tls::ServerContextSharedPtr> TlsListeners::build(
    const config::v1::DownstreamTls& config, const std::string& name) {
  std::shared_ptr<const tls::SessionTicketKeys> tickets;
  const std::chrono::seconds rotation = config::SessionTicketRotationOf(config);
  if (rotation.count() > 0) {
    auto it = entries_.find(name);
    if (it != entries_.end() && it->second.tickets != nullptr &&
        it->second.tickets->rotation() == rotation) {
      tickets = it->second.tickets;
    } else {
      tickets = std::make_shared<tls::SessionTicketKeys>(rotation);
    }
  }
  return tls::ServerContext::create(config::ServerContextConfigOf(config), std::move(tickets));
}

absl::StatusOr<TlsListeners::Prepared> TlsListeners::prepare(const Listeners& listeners) {
  Prepared prepared;
  for (int i = 0; i < listeners.size(); ++i) {
    const auto& listener = listeners[i];
    tls::ServerContextSharedPtr context;
    if (listener.has_tls()) {
      auto built = build(listener.tls(), listener.name());
      if (!built.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("listeners[", i, "].tls.", built.status().message()));
      }
      context = std::move(*built);
    }
    prepared.contexts[listener.name()] = std::move(context);
  }
  return prepared;
}

void TlsListeners::commit(const Listeners& listeners, Prepared prepared) {
  std::map<std::string, Entry> next;
  for (const auto& listener : listeners) {
    auto it = entries_.find(listener.name());
    Entry entry = it != entries_.end() ? std::move(it->second) : Entry{};
    entry.config = listener.tls();
    const tls::ServerContextSharedPtr& context = prepared.contexts[listener.name()];
    entry.tickets = nullptr;
    if (context != nullptr) entry.tickets = context->ticketKeys();
    entry.slot->set(context);
    next[listener.name()] = std::move(entry);
  }
  // A removed listener's slot stays with its draining connections' listener
  // on the workers; only the record goes.
  entries_ = std::move(next);
  watchFiles();
}

tls::ServerContextSlotSharedPtr TlsListeners::slot(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second.slot;
}

void TlsListeners::refresh() {
  for (auto& [name, entry] : entries_) {
    tls::ServerContextSharedPtr running = entry.slot->get();
    if (running == nullptr) continue;
    auto built = build(entry.config, name);
    if (!built.ok()) {
      LOG_WARN("listener ", name, ": certificate files changed but cannot be used yet (",
               std::string(built.status().message()), "); still serving the previous ones");
      continue;
    }
    if ((*built)->fingerprint() == running->fingerprint()) continue;
    entry.slot->set(*built);
    LOG_INFO("listener ", name, ": TLS certificates reloaded from disk");
  }
  // The set of files is the config's, unchanged here; the watchers (one of
  // which is calling) stay.
}

void TlsListeners::watchFiles() {
  std::map<std::string, std::unique_ptr<ConfigWatcher>> next;
  for (const auto& [name, entry] : entries_) {
    tls::ServerContextSharedPtr context = entry.slot->get();
    if (context == nullptr) continue;
    for (const std::string& file : context->files()) {
      if (next.count(file) != 0) continue;
      auto it = watchers_.find(file);
      if (it != watchers_.end()) {
        next[file] = std::move(it->second);
        continue;
      }
      auto watcher = ConfigWatcher::create(main_, file, [this] { refresh(); });
      if (!watcher.ok()) {
        LOG_WARN("listener ", name, ": changes of ", file,
                 " are not followed: ", std::string(watcher.status().message()));
        continue;
      }
      next[file] = std::move(*watcher);
    }
  }
  watchers_ = std::move(next);
}

}  // namespace modgate::server
