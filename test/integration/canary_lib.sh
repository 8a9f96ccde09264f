# shellcheck shell=bash
# Helpers for the canary tests (weighted splits, rollouts, shadowing).
# Sourced after lib.sh and cluster_lib.sh.

# rollout_field ROUTE KEY: one top-level field of the route's rollout in
# GET /rollouts ("" when absent).
rollout_field() {
  curl -s --max-time 5 "$ADMIN_URL/rollouts" | python3 -c '
import json, sys
route, key = sys.argv[1], sys.argv[2]
for r in json.load(sys.stdin).get("rollouts", []):
    if r.get("name") == route:
        v = r.get(key, "")
        print(json.dumps(v) if isinstance(v, (dict, list)) else v)' "$1" "$2" 2>/dev/null
}

# rollout_is ROUTE STATE [WEIGHT]: the rollout is in STATE (and at WEIGHT).
rollout_is() {
  [[ "$(rollout_field "$1" state)" == "$2" ]] || return 1
  [[ -z "${3:-}" || "$(rollout_field "$1" canary_weight)" == "$3" ]]
}

# rollout_post OP ROUTE [REASON]: POST /rollout/OP?route=ROUTE; prints the
# status code.
rollout_post() {
  local reason="${3:-test}"
  curl -s -o "$WORK/rollout_post.body" -w '%{http_code}' --max-time 5 -X POST \
    "$ADMIN_URL/rollout/$1?route=$2&reason=${reason// /+}"
}

# split_paths FILE TAG N [HEADER]: N distinct uncached list paths (every
# origin answers 404, so each reaches exactly one origin), the i-th sent
# with "HEADER:build-i" when HEADER is given.
split_paths() {
  local file="$1" tag="$2" n="$3" header="${4:-}" i
  for ((i = 1; i <= n; i++)); do
    if [[ -n "$header" ]]; then
      echo "/example.com/$tag/b$i/@v/list $header:build-$i"
    else
      echo "/example.com/$tag/b$i/@v/list"
    fi
  done >"$file"
}

# canary_config FILE [WEIGHTED_EXTRA]: a config with clusters "stable"
# (origin S) and "canary" (origin C) and the start of a route "public" that
# splits between them (WEIGHTED_EXTRA: more weighted_clusters fields, e.g.
# "stickiness: {header: x-build-id}"); the rest of the route (rollout,
# shadow) comes from stdin, indented by four spaces.
canary_config() {
  local file="$1" extra="${2:-}"
  {
    cat <<YAML
clusters:
  - name: stable
    endpoints: [{url: "${O_URL[S]}"}]
  - name: canary
    endpoints: [{url: "${O_URL[C]}"}]
routes:
  - name: public
    weighted_clusters:
      clusters: [{cluster: stable, weight: 1}, {cluster: canary, weight: 0}]
YAML
    [[ -n "$extra" ]] && echo "      $extra"
    cat
  } >"$file"
}

# reloads_are N: modgate_config_reload_total{result="success"} is N.
reloads_are() { [[ "$(prom_value modgate_config_reload_total result=success)" == "$1" ]]; }
