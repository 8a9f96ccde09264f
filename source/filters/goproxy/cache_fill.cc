#include "source/filters/goproxy/cache_fill.h"

#include <optional>
#include <utility>

#include "source/filters/goproxy/cache_fill_sink.h"
#include "source/filters/goproxy/shadow_sinks.h"
#include "source/filters/goproxy/verifying_sink.h"

namespace modgate::filters::goproxy {

using modgate::goproxy::RequestKind;

namespace {

const char* artifactName(RequestKind kind) {
  switch (kind) {
    case RequestKind::kMod:
      return "mod";
    case RequestKind::kZip:
      return "zip";
    default:
      return "info";
  }
}

// A fetch of the same artifact from the route's shadow cluster, when this
// fill is sampled for shadowing.
std::optional<Fetch::Target> shadowTarget(WorkerContext& worker,
                                          const modgate::goproxy::Request& request,
                                          const router::Route* route, const Fetch::Target& served) {
  // Module content only: .mod, .zip and the .info of a canonical version.
  const bool artifact = request.kind == RequestKind::kMod || request.kind == RequestKind::kZip ||
                        (request.kind == RequestKind::kInfo && request.canonical_version);
  if (route == nullptr || !route->shadow.has_value() || !artifact) return std::nullopt;
  const router::ShadowPolicy& shadow = *route->shadow;
  if (static_cast<double>(worker.random() % 10000) >= shadow.percent * 100) return std::nullopt;
  upstream::ClusterSharedPtr cluster = shadow.cluster;
  std::shared_ptr<canary::OutcomeRecorder> outcomes = shadow.outcomes;
  if (served.chain.front().cluster == cluster) {
    if (!route->split.has_value() || !route->split->rollout.has_value()) return std::nullopt;
    // This client was served by the canary: compare with stable instead.
    const router::RolloutBinding& rollout = *route->split->rollout;
    cluster = route->split->clusters[rollout.stable].cluster;
    outcomes = rollout.stable_outcomes;
  }
  Fetch::Target target;
  target.chain.push_back(router::ChainStep{cluster, router::Fallthrough::kNotFound, outcomes});
  target.paths.push_back(request.upstream_path);
  target.kind = request.kind;
  target.hash_key = served.hash_key;
  return target;
}

}  // namespace

void startCacheFill(const GoproxyConfigSharedPtr& config, WorkerContext& worker,
                    const modgate::goproxy::Request& request, const router::Route* route,
                    std::shared_ptr<cache::Inflight> inflight, Fetch::Target target,
                    std::shared_ptr<const cache::Entry> expired) {
  // Module content to verify is held back from every waiter until the
  // checksum database vouched for it (VerifyingSink, outermost); a zip
  // with stream_zips all but its last byte.
  const bool verify = VerifyingSink::applies(*config, request);
  std::unique_ptr<FetchSink> sink = std::make_unique<CacheFillSink>(
      config, request, inflight, std::move(expired), VerifyingSink::hold(*config, request));
  std::optional<Fetch::Target> shadow = shadowTarget(worker, request, route, target);
  if (shadow.has_value()) {
    canary::ArtifactKey key{request.module, request.version, artifactName(request.kind)};
    const auto& comparator = route->shadow->comparator;
    sink =
        std::make_unique<ServedDigestSink>(std::move(sink), worker.dispatcher(), comparator, key);
    // The client never waits for the shadow: it runs as a separate fetch
    // that only hashes what it receives.
    worker.startFetch(std::move(*shadow),
                      std::make_unique<ShadowSink>(worker.dispatcher(), comparator, key), 0);
  }
  if (verify) {
    sink = std::make_unique<VerifyingSink>(std::move(sink), std::move(inflight), config, worker,
                                           request);
  }
  worker.startFetch(std::move(target), std::move(sink), config->max_pending_disk_bytes);
}

}  // namespace modgate::filters::goproxy
