#include "source/router/route_table_builder.h"

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
    const config::v1::Bootstrap& bootstrap,
    const std::map<std::string, ClusterSharedPtr>& clusters) {
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
        // Weighted selection arrives with clusters and canary; until then
        // the heaviest cluster takes the route.
        const config::v1::ClusterWeight* best = nullptr;
        for (const auto& weighted : proto.weighted_clusters().clusters()) {
          if (best == nullptr || weighted.weight() > best->weight()) best = &weighted;
        }
        if (best == nullptr) {
          return absl::InvalidArgumentError(path + ".weighted_clusters: empty");
        }
        auto cluster = find(best->cluster(), path + ".weighted_clusters");
        if (!cluster.ok()) return cluster.status();
        route.chain.push_back(ChainStep{*cluster, Fallthrough::kNotFound});
        break;
      }
      case config::v1::Route::kDirectResponse:
        route.direct_response = DirectResponse{static_cast<int>(proto.direct_response().status()),
                                               proto.direct_response().body()};
        break;
      default:
        return absl::InvalidArgumentError(path + ": an action is required");
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
  return std::make_shared<const RouteTable>(std::move(routes), std::move(sumdbs));
}

}  // namespace modgate::router
