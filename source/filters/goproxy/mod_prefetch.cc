#include "source/filters/goproxy/mod_prefetch.h"

#include <memory>
#include <optional>
#include <utility>

#include "source/common/common/time.h"
#include "source/filters/goproxy/cache_fill.h"

namespace modgate::filters::goproxy {

void prefetchModForInfo(const GoproxyConfigSharedPtr& config, WorkerContext& worker,
                        const modgate::goproxy::Request& info, const router::Route* route,
                        const Fetch::Target& info_target) {
  std::optional<modgate::goproxy::Request> mod = modgate::goproxy::ModRequestFor(info);
  if (!mod.has_value()) return;
  std::shared_ptr<const cache::Entry> cached = config->cache->peek(mod->cache_key);
  if (cached != nullptr && cached->fresh(common::wallClockUnixMs())) return;
  bool created = false;
  std::shared_ptr<cache::Inflight> inflight = config->inflight->join(mod->cache_key, created);
  if (!created) return;

  Fetch::Target target;
  target.kind = modgate::goproxy::RequestKind::kMod;
  target.chain = info_target.chain;
  target.paths.assign(target.chain.size(), mod->upstream_path);
  target.hash_key = info_target.hash_key;
  // The client's own .mod request would have counted; it now joins or hits.
  target.total_outcomes = info_target.total_outcomes;
  startCacheFill(config, worker, *mod, route, std::move(inflight), std::move(target), nullptr);
}

}  // namespace modgate::filters::goproxy
