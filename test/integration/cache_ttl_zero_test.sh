#!/usr/bin/env bash
# Zero TTLs mean what cache.proto says: list_ttl 0 revalidates every
# @v/list (never "immutable"), negative_ttl 0 stores no 404.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init

start_origin
cfg="$WORK/ttl0.yaml"
cat >"$cfg" <<YAML
clusters:
  - name: origin
    endpoints: [{url: "$ORIGIN_URL"}]
cache:
  list_ttl: 0s
  negative_ttl: 0s
  stale_while_revalidate: 0s
YAML
start_modgate -c "$cfg"

# One request after another. A request that arrives while the previous
# fill is still committing (the client can have every byte before the commit
# ends) joins that fill instead of asking again: single flight, counted in
# modgate_singleflight_joined_total. Either way it is never a cached HIT.
joined() { prom_value modgate_singleflight_joined_total; }
list=/github.com/pkg/errors/@v/list
j0="$(joined)" hits=""
for i in 1 2 3; do http_get "$PROXY_URL$list" "$WORK/list.$i" >/dev/null; hits+="$(header X-Cache) "; done
j1="$(joined)"
assert_eq "list_ttl 0: each of 3 lists asked the origin or joined a fill in flight ($((j1 - j0)) joined)" \
  3 "$(($(origin_requests "$list") + j1 - j0))"
[[ "$hits" != *HIT* ]] && pass "list_ttl 0: no list was a HIT ($hits)" || fail "list_ttl 0: no list was a HIT" "$hits"
missing=/example.com/nothing-here/@v/list
for i in 1 2 3; do http_get "$PROXY_URL$missing" "$WORK/miss.$i" >/dev/null; done
j2="$(joined)"
assert_eq "negative_ttl 0: each of 3 misses asked the origin or joined a fill in flight ($((j2 - j1)) joined)" \
  3 "$(($(origin_requests "$missing") + j2 - j1))"
code="$(curl -s -o /dev/null -w '%{http_code}' "$PROXY_URL$missing")"
assert_eq "the miss is still answered 404" 404 "$code"

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
