#!/usr/bin/env bash
# Weighted clusters and runtime overrides (issues 4 and 5):
#   - A route split 70/30 between two origins without stickiness sends 4,000
#     uncached requests within ±3 points of the weights (4 sigma).
#   - POST /runtime?routes.main.a=0&routes.main.b=1 moves all traffic to b
#     without a config change; GET /runtime shows both layers; removing the
#     overrides restores the configured split. Bad keys or values get a 400
#     naming them and change nothing. Overrides survive a reload.
#   - A sticky route (x-build-id) keeps each build on one cluster.
#   - A pin header sends a request to the named cluster.
#   - Runtime clusters.<c>.endpoints.<i>.weight reweights a cluster's
#     endpoints (round robin 1:3), refuses unknown endpoints and weight 0,
#     and the configured weight returns when it is removed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/canary_lib.sh"
integ_init

start_named_origin A
start_named_origin B

cfg="$WORK/split.yaml"
cat >"$cfg" <<YAML
clusters:
  - name: a
    endpoints: [{url: "${O_URL[A]}"}]
  - name: b
    endpoints: [{url: "${O_URL[B]}"}]
  - name: both
    endpoints: [{url: "${O_URL[A]}"}, {url: "${O_URL[B]}"}]
runtime:
  routes.sticky.a: 50
routes:
  - name: sticky
    match: {prefix: example.com/sticky/}
    weighted_clusters:
      clusters: [{cluster: a, weight: 1}, {cluster: b, weight: 50}]
      runtime_key_prefix: routes.sticky
      stickiness: {header: x-build-id}
  - name: both
    match: {prefix: example.com/both/}
    cluster: both
  - name: main
    weighted_clusters:
      clusters: [{cluster: a, weight: 70}, {cluster: b, weight: 30}]
      runtime_key_prefix: routes.main
      pin_header: x-pin
YAML
start_modgate -c "$cfg"

# split_case TAG N WANT_A WANT_B TOL
split_case() {
  local tag="$1" n="$2" a b
  split_paths "$WORK/$tag.paths" "$tag" "$n"
  run_paths "$WORK/$tag.paths" 8 "$WORK/$tag.out"
  assert_eq "$tag: all $n requests answered by an origin (404)" "$n" "$(run_status_count 404)"
  a="$(count_paths "${O_LOG[A]}" "^/example.com/$tag/")"
  b="$(count_paths "${O_LOG[B]}" "^/example.com/$tag/")"
  share_check "$tag: split a/b follows $3/$4 within ±$5 points" "$5" "a=$a=$3" "b=$b=$4"
}

runtime_post() {
  curl -s -o "$WORK/runtime.body" -w '%{http_code}' --max-time 5 -X POST "$ADMIN_URL/runtime?$1"
}

split_case configured 4000 70 30 3

assert_eq "POST /runtime with two overrides answers 200" 200 "$(runtime_post 'routes.main.a=0&routes.main.b=1')"
split_case overridden 500 0 100 0
body="$(curl -s --max-time 5 "$ADMIN_URL/runtime")"
assert_match "GET /runtime shows the static layer" '"static":\{"routes.sticky.a":50\}' "$body"
assert_match "GET /runtime shows the overrides" '"overrides":\{"routes.main.a":0,"routes.main.b":1\}' "$body"

# A reload that changes another route keeps the overrides.
sed -i 's/{cluster: b, weight: 50}/{cluster: b, weight: 40}/' "$cfg"
if wait_until 60 reloads_are 1; then
  pass "the edited config file was reloaded (inotify)"
else
  fail "the edited config file was reloaded (inotify)" "reload_total{success} is $(prom_value modgate_config_reload_total result=success)"
fi
split_case after-reload 500 0 100 0

assert_eq "a bad key is refused with 400" 400 "$(runtime_post 'Routes..main=1')"
assert_match "the 400 names the key" 'invalid runtime key "Routes..main"' "$(cat "$WORK/runtime.body")"
assert_eq "a negative value is refused with 400" 400 "$(runtime_post 'routes.main.b=0&routes.main.a=-1')"
assert_match "the 400 names the value" 'routes.main.a: "-1" is not a non-negative integer' "$(cat "$WORK/runtime.body")"
assert_match "a refused POST changes nothing (all or nothing)" '"overrides":\{"routes.main.a":0,"routes.main.b":1\}' \
  "$(curl -s --max-time 5 "$ADMIN_URL/runtime")"
assert_eq "GET /runtime?x is not a change" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$ADMIN_URL/runtime?routes.main.a=5")"

assert_eq "empty values remove the overrides" 200 "$(runtime_post 'routes.main.a=&routes.main.b=')"
split_case restored 2000 70 30 3.5

# Endpoint weights by runtime: clusters.<cluster>.endpoints.<index>.weight.
mkdir -p "$WORK/both"
split_case both/even 1000 50 50 3
assert_eq "runtime endpoint weight 3 for both's second endpoint answers 200" 200 \
  "$(runtime_post 'clusters.both.endpoints.1.weight=3')"
assert_eq "/clusters shows the new weight" 3 "$(host_field both "${O_HOST[B]}" weight)"
split_case both/weighted 1000 25 75 3
assert_eq "an endpoint that does not exist is refused" 400 "$(runtime_post 'clusters.both.endpoints.2.weight=3')"
assert_match "the 400 names it" 'clusters.both.endpoints.2.weight: no such endpoint' "$(cat "$WORK/runtime.body")"
assert_eq "weight 0 is refused" 400 "$(runtime_post 'clusters.both.endpoints.0.weight=0')"
assert_eq "removing the endpoint weight override answers 200" 200 "$(runtime_post 'clusters.both.endpoints.1.weight=')"
assert_eq "/clusters shows the configured weight again" 1 "$(host_field both "${O_HOST[B]}" weight)"

code="$(curl -s -o /dev/null -w '%{http_code}' -H 'x-pin: b' "$PROXY_URL/example.com/pinned/@v/list")"
assert_eq "pin header x-pin: b goes to b" "404 0 1" \
  "$code $(count_paths "${O_LOG[A]}" '^/example.com/pinned/') $(count_paths "${O_LOG[B]}" '^/example.com/pinned/')"

# Sticky: 20 builds x 10 distinct requests each; every build on one side.
for ((i = 1; i <= 20; i++)); do
  for ((j = 1; j <= 10; j++)); do echo "/example.com/sticky/b$i/r$j/@v/list x-build-id:build-$i"; done
done >"$WORK/sticky.paths"
run_paths "$WORK/sticky.paths" 8 "$WORK/sticky.out"
mixed="$(cat "${O_LOG[A]}" "${O_LOG[B]}" | awk '$2 ~ "^/example.com/sticky/" { split($2, p, "/"); print p[4] }' |
  sort | uniq -c | awk '$1 != 10' | wc -l)"
both="$(comm -12 <(awk '$2 ~ "^/example.com/sticky/" { split($2, p, "/"); print p[4] }' "${O_LOG[A]}" | sort -u) \
  <(awk '$2 ~ "^/example.com/sticky/" { split($2, p, "/"); print p[4] }' "${O_LOG[B]}" | sort -u) | wc -l)"
assert_eq "sticky route: each build's 10 requests all went to one cluster" "0 0" "$mixed $both"
a_builds="$(awk '$2 ~ "^/example.com/sticky/" { split($2, p, "/"); print p[4] }' "${O_LOG[A]}" | sort -u | wc -l)"
((a_builds >= 3 && a_builds <= 17)) && pass "sticky route: builds spread over both clusters ($a_builds of 20 on a)" ||
  fail "sticky route: builds spread over both clusters" "$a_builds of 20 on a"

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
