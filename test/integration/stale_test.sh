#!/usr/bin/env bash
# TTLs of the mutable answers, from a config file:
#   cache: {list_ttl: 8s, latest_ttl: 8s, negative_ttl: 15s}
# Long enough that "within the TTL" holds on a loaded machine (a check
# inside a TTL runs well before it ends, with a margin of 10x what a quiet
# machine needs); "after the TTL" sleeps past it, which load only lengthens.
# @v/list and @latest: MISS, then HIT within the TTL; origin stopped and the
# TTL passed: 200 X-Cache: STALE with the same body; origin back: asked
# again, conditionally (If-None-Match with its ETag), it answers 304 and the
# entry is refreshed without a body (REVALIDATED), then fresh (HIT). 404s are
# remembered for negative_ttl (one origin request for two asks) and
# forgotten after it. With serve_stale:
# false an expired list is an error while the origin is down.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init

LIST_P=/github.com/fsnotify/fsnotify/@v/list
LATEST_P=/github.com/spf13/cobra/@latest
[[ -f "$FIXTURE$LIST_P" && -f "$FIXTURE$LATEST_P" ]] || die "fixture lacks $LIST_P or $LATEST_P"

LIST_TTL=8
NEGATIVE_TTL=15
# The origin serves a copy of the fixture that grows a module later on, so
# that no origin restart (seconds on a busy machine) falls inside a TTL.
# Copied first: a full copy (where hard links fail) takes a while.
grown="$WORK/origin-grown"
copy_fixture "$grown" || die "cannot copy the fixture"
start_origin --root "$grown"
PORT="$ORIGIN_PORT"

# write_config FILE SERVE_STALE [STALE_WHILE_REVALIDATE]
# The first sections turn background revalidation off (0s) to test the
# synchronous refresh; the last one tests the default.
write_config() {
  cat >"$1" <<EOF
cache:
  list_ttl: ${LIST_TTL}s
  latest_ttl: ${LIST_TTL}s
  negative_ttl: ${NEGATIVE_TTL}s
  serve_stale: $2
  stale_while_revalidate: ${3:-0s}
clusters:
  - name: origin
    endpoints:
      - url: $ORIGIN_URL
EOF
}
write_config "$WORK/ttl.yaml" true
start_modgate -c "$WORK/ttl.yaml" --cache-dir "$WORK/cache"

# get CASE PATH WANT_XCACHE [WANT_BODY_FILE]: 200, X-Cache as given, body
# equal to the fixture file.
get() {
  local name="$1" p="$2" want="$3" code xc
  code="$(http_get "$PROXY_URL$p" "$WORK/get.body")"
  xc="$(header X-Cache)"
  if [[ "$code" != 200 ]]; then fail "$name" "GET $p: status $code, body [$(head -c 200 "$WORK/get.body")]"
  elif ! cmp -s "$WORK/get.body" "$FIXTURE$p"; then fail "$name" "GET $p: body differs from the fixture [$(head -c 200 "$WORK/get.body")]"
  elif [[ "$xc" != "$want" ]]; then fail "$name" "GET $p: X-Cache [$xc], want $want"
  else pass "$name"; fi
}

# is_hit PATH: a GET of PATH is answered 200 HIT.
is_hit() { [[ "$(http_get "$PROXY_URL$1" "$WORK/hit.body") $(header X-Cache)" == "200 HIT" ]]; }
# wait_hit PATH: the commit of a fill trails its response (a request in that
# moment joins the fill), so wait (30 s at most) until PATH is a HIT.
wait_hit() { wait_until 30 is_hit "$1" || log "$1 is not a HIT after 30 s"; }

# ---- fresh, then hit --------------------------------------------------------
for p in "$LIST_P" "$LATEST_P"; do
  get "origin up: first GET $p is a MISS" "$p" MISS
  wait_hit "$p"
  get "origin up: second GET $p within the TTL is a HIT" "$p" HIT
  assert_eq "origin up: the origin was asked once for $p" 1 "$(origin_requests "$p")"
done

# ---- origin down, TTL passed: stale ------------------------------------------
stop_origin
sleep $((LIST_TTL + 1))
for p in "$LIST_P" "$LATEST_P"; do
  get "origin down, TTL passed: GET $p is 200 STALE with the same body" "$p" STALE
  get "origin down: again GET $p is STALE" "$p" STALE
done

# ---- origin back: refreshed -----------------------------------------------------
ORIGIN_FIXED_PORT="$PORT" start_origin --root "$grown"
sleep 1.5
for p in "$LIST_P" "$LATEST_P"; do
  get "origin back: GET $p is revalidated with the origin (REVALIDATED)" "$p" REVALIDATED
  n="$(origin_requests "$p")"
  assert_eq "origin back: the restarted origin was asked once for $p" 1 "$n"
  wait_hit "$p"
  get "origin back: the next GET $p is a HIT" "$p" HIT
  assert_eq "origin back: the HITs did not ask the origin for $p" 1 "$(origin_requests "$p")"
done
sleep $((LIST_TTL + 1))
get "origin back, TTL passed again: GET $LIST_P is revalidated (REVALIDATED)" "$LIST_P" REVALIDATED
assert_eq "origin back: both revalidations of $LIST_P were answered 304 (no body)" 2 \
  "$(awk -v p="$LIST_P" '$2 == p && $3 == 304' "$ORIGIN_LOG" | wc -l)"
assert_eq "origin back: the origin was asked again after the TTL" 2 "$(origin_requests "$LIST_P")"

# ---- negative caching -----------------------------------------------------------
# (a) With a short pause between the two asks.
for p in /example.com/no/such/module/@v/list /example.com/no/such/module/@latest \
  /github.com/google/uuid/@v/v1.9.9.info /github.com/google/uuid/@v/v1.9.9.mod; do
  c1="$(http_get "$PROXY_URL$p")"
  sleep 0.3
  c2="$(http_get "$PROXY_URL$p")"
  assert_eq "negative: GET $p twice within negative_ttl is 404 twice" "404 404" "$c1 $c2"
  assert_eq "negative: the origin was asked once for $p" 1 "$(origin_requests "$p")"
done

# (b) Back to back: the second ask starts only after the first 404 arrived,
# so it must find the remembered 404 too.
# Regression check: the negative entry used to be stored only after the 404
# was answered, so with two requests in turn on one connection 19 of these
# 20 paths were fetched twice; fixed in 1951e51 (waiters are answered once
# the entry is indexed).
twice=0 not404=0 first=""
for ((i = 0; i < 20; i++)); do
  p="/example.com/absent$i/@v/list"
  # One curl, two requests in turn on one keep-alive connection.
  codes="$(curl -s --max-time 30 -o /dev/null -o /dev/null -w '%{http_code} ' "$PROXY_URL$p" "$PROXY_URL$p")"
  [[ "$codes" == "404 404 " ]] || not404=$((not404 + 1))
  n="$(origin_requests "$p")"
  if ((n != 1)); then twice=$((twice + 1)); first="${first:-$p asked $n times}"; fi
done
assert_eq "negative: 20 absent modules, each asked twice back to back: all 404" 0 "$not404"
if ((twice == 0)); then pass "negative: 20 absent modules asked twice back to back: the origin was asked once for each"
else fail "negative: 20 absent modules asked twice back to back: the origin was asked once for each" "$twice of 20 were fetched twice from the origin (e.g. $first)"; fi

sleep $((NEGATIVE_TTL + 1))
p=/example.com/no/such/module/@v/list
c3="$(http_get "$PROXY_URL$p")"
assert_eq "negative: after negative_ttl (${NEGATIVE_TTL}s) GET $p is 404 again" 404 "$c3"
assert_eq "negative: after negative_ttl the origin was asked again" 2 "$(origin_requests "$p")"

# A module that appears upstream after a 404 is served once negative_ttl ends.
NEWMOD=example.com/appears/later
code="$(http_get "$PROXY_URL/$NEWMOD/@v/list")"
assert_eq "negative: $NEWMOD/@v/list is 404 before it exists" 404 "$code"
mkdir -p "$grown/$NEWMOD/@v" && printf 'v1.0.0\n' >"$grown/$NEWMOD/@v/list"
code="$(http_get "$PROXY_URL/$NEWMOD/@v/list")"
assert_eq "negative: within negative_ttl it is still 404 (remembered)" 404 "$code"
sleep $((NEGATIVE_TTL + 1))
code="$(http_get "$PROXY_URL/$NEWMOD/@v/list")"
assert_eq "negative: after negative_ttl it is served (200 v1.0.0)" "200 v1.0.0" "$code $(cat "$WORK/last.body")"
stop_modgate

# ---- serve_stale: false ------------------------------------------------------------
ORIGIN_URL="http://127.0.0.1:$PORT" write_config "$WORK/nostale.yaml" false
start_modgate -c "$WORK/nostale.yaml" --cache-dir "$WORK/cache-nostale"
get "serve_stale false: GET $LIST_P is a MISS" "$LIST_P" MISS
stop_origin
sleep $((LIST_TTL + 1))
code="$(http_get "$PROXY_URL$LIST_P")"
if [[ "$code" =~ ^5[0-9][0-9]$ ]]; then
  pass "serve_stale false: origin down, TTL passed: GET $LIST_P is an error ($code), not stale"
else
  fail "serve_stale false: origin down, TTL passed: GET $LIST_P is an error" "status $code, X-Cache [$(header X-Cache)]"
fi

stop_modgate

# ---- stale_while_revalidate (60s here; default 1h) ----------------------------------------
# An expired list is answered at once from cache (STALE) while one background
# fetch refreshes it; the next request sees the refreshed answer (HIT).
swr_root="$WORK/swr-origin"
copy_fixture "$swr_root" || die "cannot copy the fixture"
ORIGIN_FIXED_PORT="$PORT" start_origin --root "$swr_root"
ORIGIN_URL="http://127.0.0.1:$PORT" write_config "$WORK/swr.yaml" true 60s
start_modgate -c "$WORK/swr.yaml" --cache-dir "$WORK/cache-swr"
get "swr: GET $LIST_P is a MISS" "$LIST_P" MISS
before="$(origin_requests "$LIST_P")"
# A new version appears upstream; the cached list expires.
rm -f "$swr_root$LIST_P" && { cat "$FIXTURE$LIST_P"; printf 'v9.9.9\n'; } >"$swr_root$LIST_P"
sleep $((LIST_TTL + 1))
code="$(http_get "$PROXY_URL$LIST_P" "$WORK/swr1.body")"
assert_eq "swr: expired list answered at once from cache (200 STALE, old body)" \
  "200 STALE same" "$code $(header X-Cache) $(cmp -s "$WORK/swr1.body" "$FIXTURE$LIST_P" && echo same || echo differs)"
ok=0
for _ in $(seq 1 300); do
  code="$(http_get "$PROXY_URL$LIST_P" "$WORK/swr2.body")"
  if [[ "$code $(header X-Cache)" == "200 HIT" ]] && grep -q '^v9.9.9$' "$WORK/swr2.body"; then ok=1; break; fi
  sleep 0.1
done
if ((ok)); then pass "swr: the background refresh brings the new version (200 HIT with v9.9.9)"
else fail "swr: the background refresh brings the new version" "last: $code $(header X-Cache)"; fi
assert_eq "swr: one background fetch for the refresh" 1 "$(($(origin_requests "$LIST_P") - before))"

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
