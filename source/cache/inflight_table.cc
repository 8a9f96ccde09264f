#include "source/cache/inflight_table.h"

namespace modgate::cache {
namespace {

absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

InflightTable::InflightTable() : registry_(std::make_shared<Registry>()) {}

std::shared_ptr<Inflight> InflightTable::join(std::string_view key, bool& created) {
  std::lock_guard<std::mutex> lock(registry_->mu);
  auto [it, inserted] = registry_->inflights.try_emplace(AbslView(key));
  created = inserted;
  if (!inserted) return it->second;
  auto inflight = std::make_shared<Inflight>(std::string(key));
  std::weak_ptr<Registry> weak_registry = registry_;
  Inflight* raw = inflight.get();
  inflight->setDoneCallback([weak_registry, raw, key = std::string(key)] {
    std::shared_ptr<Registry> registry = weak_registry.lock();
    if (registry == nullptr) return;
    std::shared_ptr<Inflight> dropped;  // released after the lock
    std::lock_guard<std::mutex> lock(registry->mu);
    auto it = registry->inflights.find(key);
    if (it != registry->inflights.end() && it->second.get() == raw) {
      dropped = std::move(it->second);
      registry->inflights.erase(it);
    }
  });
  it->second = inflight;
  return inflight;
}

std::shared_ptr<Inflight> InflightTable::find(std::string_view key) const {
  std::lock_guard<std::mutex> lock(registry_->mu);
  auto it = registry_->inflights.find(AbslView(key));
  return it == registry_->inflights.end() ? nullptr : it->second;
}

size_t InflightTable::size() const {
  std::lock_guard<std::mutex> lock(registry_->mu);
  return registry_->inflights.size();
}

}  // namespace modgate::cache
