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

list=/github.com/pkg/errors/@v/list
for i in 1 2 3; do http_get "$PROXY_URL$list" "$WORK/list.$i" >/dev/null; sleep 0.01; done
assert_eq "list_ttl 0: each of 3 lists asked the origin" 3 "$(origin_requests "$list")"
missing=/example.com/nothing-here/@v/list
for i in 1 2 3; do http_get "$PROXY_URL$missing" "$WORK/miss.$i" >/dev/null; done
assert_eq "negative_ttl 0: each of 3 misses asked the origin" 3 "$(origin_requests "$missing")"
code="$(curl -s -o /dev/null -w '%{http_code}' "$PROXY_URL$missing")"
assert_eq "the miss is still answered 404" 404 "$code"

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
