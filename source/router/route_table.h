#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "source/canary/outcome_window.h"
#include "source/common/http/header_map.h"
#include "source/goproxy/request.h"
#include "source/router/weighted_split.h"
#include "source/upstream/cluster/cluster.h"

namespace modgate::router {

// Routes name clusters; the clusters themselves (hosts, health, balancers)
// live in the upstream layer.
using ClusterSharedPtr = upstream::ClusterSharedPtr;

// How a fallback chain moves from one cluster to the next (GOPROXY syntax):
// ',' only after 404/410, '|' after any error. kServerError is modgate's
// own, for a canary backed by stable: on 5xx and failures (connect, reset,
// timeout) but not on 404/410, which are the canary's considered answer.
enum class Fallthrough { kNotFound, kAnyError, kServerError };

struct ChainStep {
  ClusterSharedPtr cluster;
  // How to move on to the next step; ignored on the last.
  Fallthrough on = Fallthrough::kNotFound;
  // Where this step's attempts count for a rollout's gates; usually null.
  std::shared_ptr<canary::OutcomeRecorder> outcomes;
};

struct DirectResponse {
  int status = 404;
  std::string body;
};

enum KindMask : uint32_t {
  kKindList = 1 << 0,
  kKindInfo = 1 << 1,
  kKindMod = 1 << 2,
  kKindZip = 1 << 3,
  kKindLatest = 1 << 4,
  kKindSumdb = 1 << 5,
  kKindAll = 0x3f,
};
uint32_t kindBit(goproxy::RequestKind kind);

struct RouteMatch {
  std::string exact;                  // module path equals
  std::string prefix;                 // module path starts with, at an element boundary
  std::vector<std::string> patterns;  // GOPRIVATE-style globs (MatchPrefixPatterns)
  uint32_t kinds = kKindAll;
  // Every header condition must hold (Envoy's HeaderMatcher).
  struct Header {
    std::string name;  // lower-case
    std::optional<std::string> exact;
    bool present = true;  // without `exact`: must be present (or absent)
    bool invert = false;
  };
  std::vector<Header> headers;
  // The request carries one of these (http::principalMatches); empty: any.
  std::vector<std::string> principals;
};

struct Route {
  std::string name;
  RouteMatch match;
  // One cluster or a fallback chain; empty with `split` or a direct response.
  std::vector<ChainStep> chain;
  std::optional<WeightedSplit> split;
  std::optional<ShadowPolicy> shadow;
  std::optional<DirectResponse> direct_response;
  // Anonymous requests get 401 with WWW-Authenticate for `realm`.
  bool require_auth = false;
  std::string realm;
};

// A checksum database with its own URL, bypassing the route's proxies.
struct SumDb {
  std::string name;
  ClusterSharedPtr cluster;  // empty: proxied through the matching route
};

// The ordered route table of a listener; the first matching route wins.
class RouteTable {
 public:
  // `total_outcomes`: where every attempt of every route counts besides its
  // step's own recorder (the node's total for fleet reports); may be null.
  RouteTable(std::vector<Route> routes, std::vector<SumDb> sumdbs,
             std::shared_ptr<canary::OutcomeRecorder> total_outcomes = nullptr);

  // The first route that matches, or nullptr.
  // `principals`: the request's (StreamInfo::principals).
  const Route* match(const goproxy::Request& request, const http::RequestHeaders& headers,
                     const std::vector<std::string>& principals = {}) const;
  // The configured database of this name, or nullptr.
  const SumDb* sumdb(std::string_view name) const;
  const std::shared_ptr<canary::OutcomeRecorder>& totalOutcomes() const { return total_outcomes_; }

 private:
  std::vector<Route> routes_;
  std::vector<SumDb> sumdbs_;
  std::shared_ptr<canary::OutcomeRecorder> total_outcomes_;
};
using RouteTableSharedPtr = std::shared_ptr<const RouteTable>;

// golang.org/x/mod/module.MatchPrefixPatterns: does any glob of the
// comma-separated `patterns` match a prefix of `path` (element-wise)?
bool matchPrefixPatterns(std::string_view patterns, std::string_view path);
// path.Match for one element-wise glob.
bool globMatch(std::string_view pattern, std::string_view name);

}  // namespace modgate::router
