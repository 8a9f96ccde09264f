#include "source/router/route_table_builder.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace modgate::router {
namespace {

uint32_t kindsMask(const config::v1::RouteMatch& match) {
  if (match.kinds_size() == 0) return kKindAll;
  uint32_t mask = 0;
  for (int kind : match.kinds()) {
    switch (kind) {
      case config::v1::RouteMatch::LIST:
        mask |= kKindList;
        break;
      case config::v1::RouteMatch::INFO:
        mask |= kKindInfo;
        break;
      case config::v1::RouteMatch::MOD:
        mask |= kKindMod;
        break;
      case config::v1::RouteMatch::ZIP:
        mask |= kKindZip;
        break;
      case config::v1::RouteMatch::LATEST:
        mask |= kKindLatest;
        break;
      case config::v1::RouteMatch::SUMDB:
        mask |= kKindSumdb;
        break;
      default:
        break;
    }
  }
  return mask;
}

}  // namespace

absl::StatusOr<RouteTableSharedPtr> buildRouteTable(
    const config::v1::Bootstrap& bootstrap, const std::map<std::string, ClusterSharedPtr>& clusters,
    const RouteInputs& inputs) {
  auto find = [&](const std::string& name,
                  const std::string& path) -> absl::StatusOr<ClusterSharedPtr> {
    auto it = clusters.find(name);
    if (it == clusters.end()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": unknown cluster \"", name, "\""));
    }
    return it->second;
  };

  std::vector<Route> routes;
  for (int i = 0; i < bootstrap.routes_size(); ++i) {
    const auto& proto = bootstrap.routes(i);
    const std::string path = absl::StrCat("routes[", i, "]");
    Route route;
    route.name = proto.name();
    route.match.exact = proto.match().exact();
    route.match.prefix = proto.match().prefix();
    if (!proto.match().patterns().empty()) route.match.patterns.push_back(proto.match().patterns());
    route.match.principals.assign(proto.match().principals().begin(),
                                  proto.match().principals().end());
    route.require_auth = proto.require_auth();
    route.realm =
        bootstrap.client_auth().realm().empty() ? "modgate" : bootstrap.client_auth().realm();
    route.match.kinds = kindsMask(proto.match());
    for (const auto& header : proto.match().headers()) {
      RouteMatch::Header condition;
      condition.name = absl::AsciiStrToLower(header.name());
      if (header.header_match_specifier_case() == config::v1::HeaderMatcher::kExactMatch) {
        condition.exact = header.exact_match();
      } else if (header.header_match_specifier_case() == config::v1::HeaderMatcher::kPresentMatch) {
        condition.present = header.present_match();
      }
      condition.invert = header.invert_match();
      route.match.headers.push_back(std::move(condition));
    }
    switch (proto.action_case()) {
      case config::v1::Route::kCluster: {
        auto cluster = find(proto.cluster(), path + ".cluster");
        if (!cluster.ok()) return cluster.status();
        route.chain.push_back(ChainStep{*cluster, Fallthrough::kNotFound});
        break;
      }
      case config::v1::Route::kFallback: {
        for (int s = 0; s < proto.fallback().steps_size(); ++s) {
          const auto& step = proto.fallback().steps(s);
          auto cluster =
              find(step.cluster(), absl::StrCat(path, ".fallback.steps[", s, "].cluster"));
          if (!cluster.ok()) return cluster.status();
          route.chain.push_back(ChainStep{*cluster, step.on() == config::v1::FallbackStep::ANY_ERROR
                                                        ? Fallthrough::kAnyError
                                                        : Fallthrough::kNotFound});
        }
        break;
      }
      case config::v1::Route::kWeightedClusters: {
        const auto& weighted = proto.weighted_clusters();
        WeightedSplit split;
        for (int c = 0; c < weighted.clusters_size(); ++c) {
          const auto& entry = weighted.clusters(c);
          auto cluster = find(entry.cluster(),
                              absl::StrCat(path, ".weighted_clusters.clusters[", c, "].cluster"));
          if (!cluster.ok()) return cluster.status();
          uint64_t weight = entry.weight();
          if (!weighted.runtime_key_prefix().empty()) {
            auto it = inputs.runtime.find(
                absl::StrCat(weighted.runtime_key_prefix(), ".", entry.cluster()));
            if (it != inputs.runtime.end()) weight = std::min<uint64_t>(it->second, UINT32_MAX);
          }
          split.clusters.push_back(WeightedCluster{*cluster, static_cast<uint32_t>(weight)});
          split.total_weight += weight;
        }
        if (split.clusters.empty()) {
          return absl::InvalidArgumentError(path + ".weighted_clusters: empty");
        }
        const uint64_t salt = canary::splitSalt(proto.name());
        switch (weighted.stickiness().key_case()) {
          case config::v1::ClientStickiness::kSourceIp:
            split.stickiness = canary::StickinessSpec{canary::ClientKeySource::kSourceIp, "", salt};
            break;
          case config::v1::ClientStickiness::kHeader:
            split.stickiness =
                canary::StickinessSpec{canary::ClientKeySource::kHeader,
                                       absl::AsciiStrToLower(weighted.stickiness().header()), salt};
            break;
          case config::v1::ClientStickiness::kNode:
            split.stickiness = canary::StickinessSpec{canary::ClientKeySource::kNode, "", salt};
            break;
          default:
            break;
        }
        split.node_id = bootstrap.node().id();
        split.pin_header = absl::AsciiStrToLower(weighted.pin_header());
        if (proto.has_rollout()) {
          RolloutBinding rollout;
          const bool canary_first =
              weighted.clusters(0).cluster() == proto.rollout().canary_cluster();
          rollout.canary = canary_first ? 0 : 1;
          rollout.stable = canary_first ? 1 : 0;
          rollout.fallback_to_stable = !proto.rollout().has_fallback_to_stable() ||
                                       proto.rollout().fallback_to_stable().value();
          auto it = inputs.canary.find(proto.name());
          if (it != inputs.canary.end()) {
            rollout.canary_weight_percent = it->second.canary_weight_percent;
            rollout.stable_outcomes = it->second.stable_outcomes;
            rollout.canary_outcomes = it->second.canary_outcomes;
          }
          split.rollout = rollout;
        }
        route.split = std::move(split);
        break;
      }
      case config::v1::Route::kDirectResponse:
        route.direct_response = DirectResponse{static_cast<int>(proto.direct_response().status()),
                                               proto.direct_response().body()};
        break;
      default:
        return absl::InvalidArgumentError(path + ": an action is required");
    }
    if (proto.has_shadow() && proto.shadow().percent() > 0) {
      ShadowPolicy shadow;
      shadow.percent = proto.shadow().percent();
      std::string shadow_cluster = proto.shadow().cluster();
      if (shadow_cluster.empty() && proto.has_rollout()) {
        shadow_cluster = proto.rollout().canary_cluster();
      }
      auto cluster = find(shadow_cluster, path + ".shadow.cluster");
      if (!cluster.ok()) return cluster.status();
      shadow.cluster = *cluster;
      auto it = inputs.canary.find(proto.name());
      if (it != inputs.canary.end()) {
        shadow.comparator = it->second.comparator;
        // The shadow's answers are the canary's answers: they feed its gates.
        if (shadow_cluster == proto.rollout().canary_cluster()) {
          shadow.outcomes = it->second.canary_outcomes;
        }
      }
      // Without a comparator nothing could be compared: no shadowing.
      if (shadow.comparator != nullptr) route.shadow = std::move(shadow);
    }
    routes.push_back(std::move(route));
  }

  std::vector<SumDb> sumdbs;
  for (int i = 0; i < bootstrap.sumdbs_size(); ++i) {
    const auto& proto = bootstrap.sumdbs(i);
    SumDb db;
    db.name = proto.name();
    if (!proto.url().empty()) {
      auto cluster = find(absl::StrCat("sumdb_", proto.name()), absl::StrCat("sumdbs[", i, "]"));
      if (!cluster.ok()) return cluster.status();
      db.cluster = *cluster;
    }
    sumdbs.push_back(std::move(db));
  }
  return std::make_shared<const RouteTable>(std::move(routes), std::move(sumdbs),
                                            inputs.total_outcomes);
}

}  // namespace modgate::router
