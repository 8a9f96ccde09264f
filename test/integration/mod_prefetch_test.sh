#!/usr/bin/env bash
# A version's .mod is fetched from the origin as soon as its .info misses
# (issue 12, target 5: the go command asks for both, one after the other, so
# the .mod's upstream round trip can overlap the .info's). Shown with the
# origin's request log (each .mod asked of it once, and before any client
# asked modgate for it) and modgate's access log (a client's .mod is a hit
# or a coalesced waiter, never a miss of its own); the real go command
# downloads through it and gets the fixture's sums. A query .info (no fixed
# version) fetches no .mod, and a cached .mod is not fetched again.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/reload_lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing (apt-get install golang-go)"

# A slow origin, as across a WAN: the go command's .mod request comes while
# the prefetched one is still under way, and joins it.
start_origin --delay-ms 1000
pick_ports 1
LOG="$WORK/access.log"
cat >"$WORK/modgate.yaml" <<EOF
listeners:
  - address: 127.0.0.1:${PORTS[0]}
    access_log:
      path: $LOG
$(origin_yaml)
EOF
start_modgate_file "$WORK/modgate.yaml"

# cache_of PATH: the "cache" field of every access log line for PATH, in order.
cache_of() {
  python3 -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("path") == sys.argv[2]:
        print(o.get("cache", ""))' "$LOG" "$1" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'
}
logged() { [[ -n "$(cache_of "$1")" ]]; }

# ---- a .info miss fills the .mod, which no client asked for -----------------------
M=github.com/!burnt!sushi/toml
INFO="/$M/@v/v1.2.0.info"
MOD="/$M/@v/v1.2.0.mod"
assert_eq "GET the .info: 200" 200 "$(http_get "$PROXY_URL$INFO" "$WORK/info.body")"
# Disable-Module-Fetch: true is answered from the cache alone, never fetched.
if wait_until 30 cached_no_fetch "$MOD"; then
  pass "the .mod is in the cache without any client having asked for it (${WAITED_MS} ms)"
else
  fail "the .mod is in the cache without any client having asked for it" "not cached after 30 s"
fi
assert_eq "the origin was asked for the .mod once" 1 "$(origin_requests "$MOD")"
x="$(http_get "$PROXY_URL$MOD" "$WORK/mod.body" >/dev/null; header X-Cache)"
assert_eq "the client's .mod is a cache hit with the origin's bytes" "HIT same" \
  "$x $(cmp -s "$WORK/mod.body" "$FIXTURE$MOD" && echo same || echo differs)"
assert_eq "the origin was still asked for the .mod once" 1 "$(origin_requests "$MOD")"

# ---- a cached .mod is not fetched again by its .info's miss ------------------------
M=github.com/davecgh/go-spew
INFO="/$M/@v/v1.1.1.info"
MOD="/$M/@v/v1.1.1.mod"
assert_eq "GET a .mod first: 200" 200 "$(http_get "$PROXY_URL$MOD" "$WORK/mod.body")"
wait_until 30 cached_no_fetch "$MOD" || log "$MOD not cached after 30 s"
assert_eq "then its .info: 200" 200 "$(http_get "$PROXY_URL$INFO" "$WORK/info.body")"
assert_eq "the origin was asked for that .mod once, by the client" 1 "$(origin_requests "$MOD")"

# ---- a query .info names no fixed version: no .mod ---------------------------------
M=github.com/creack/pty
code="$(http_get "$PROXY_URL/$M/@v/v1.1.info" "$WORK/query.body")"
log "query .info answered $code"
assert_eq "a query .info fetches no .mod" 0 "$(origin_count "^/$M/@v/.*\\.mod\$")"

# ---- the go command: each .mod asked of the origin once, and served from the fill ---
VERSIONS=(github.com/fsnotify/fsnotify@v1.5.1 github.com/google/go-cmp@v0.5.9
  github.com/pkg/errors@v0.9.1)
go_env prefetch
cd "$GO_HOME/work" || die "no work dir"
go_download_sums "go mod download ${VERSIONS[*]} through modgate: fixture sums" "${VERSIONS[@]}"
for mv in "${VERSIONS[@]}"; do
  m="$(go_escape "${mv%@*}")" v="${mv#*@}"
  MOD="/$m/@v/$v.mod"
  assert_eq "$mv: the origin was asked for the .mod once" 1 "$(origin_requests "$MOD")"
  wait_until 10 logged "$MOD" || log "no access log line for $MOD after 10 s"
  c="$(cache_of "$MOD")"
  if [[ "$c" == hit || "$c" == coalesced ]]; then
    pass "$mv: the go command's .mod was served from the prefetch ($c), not a miss of its own"
  else
    fail "$mv: the go command's .mod was served from the prefetch" "access log cache: [$c]"
  fi
done

finish
