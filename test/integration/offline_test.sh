#!/usr/bin/env bash
# Once modgate has served modules, it keeps serving them with the origin down:
# to a client with an empty module cache, from its cache (X-Cache: HIT), and
# again after a restart on the same cache directory.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing (apt-get install golang-go)"

MODS=(github.com/google/uuid@v1.3.0 github.com/BurntSushi/toml@v1.2.0
  github.com/pkg/errors@v0.9.1 github.com/patrickmn/go-cache@v2.1.0+incompatible
  gopkg.in/check.v1@v0.0.0-20161208181325-20d25e280405)
LIST_MOD=github.com/fsnotify/fsnotify
LIST_WANT="github.com/fsnotify/fsnotify v1.5.1 v1.5.4 v1.6.0"

# download_all LABEL: go mod download of MODS, sums checked against the
# fixture (lib.sh's go_download_sums); one case.
download_all() {
  go_download_sums "$1: go mod download of ${#MODS[@]} modules, sums match" "${MODS[@]}"
}

# expect_hit LABEL PATH: 200, body equals the fixture file, X-Cache HIT.
expect_hit() {
  local label="$1" path="$2" code xc
  code="$(http_get "$PROXY_URL$path" "$WORK/hit.body")"
  xc="$(header X-Cache)"
  local file="$FIXTURE${path//%21/!}"
  if [[ "$code" != 200 ]]; then fail "$label: GET $path" "status $code"
  elif ! cmp -s "$WORK/hit.body" "$file"; then fail "$label: GET $path" "body differs from the fixture"
  elif [[ "$xc" != HIT ]]; then fail "$label: GET $path" "X-Cache is [${xc}], expected HIT"
  else pass "$label: GET $path is 200 from cache (X-Cache: HIT)"; fi
}

start_origin
start_modgate
cache="$MODGATE_CACHE"

# 1. Warm the cache through the go command (info, mod, zip, sumdb) and a list.
go_env warm
cd "$GO_HOME/work" || die "no work dir"
download_all "origin up"
out="$(timeout 120 go list -m -versions "$LIST_MOD" 2>&1)"
assert_eq "origin up: go list -m -versions $LIST_MOD" "$LIST_WANT" "$out"
code="$(http_get "$PROXY_URL/github.com/google/uuid/@v/v1.3.0.info")"
xc="$(header X-Cache)"
assert_match "origin up: a second GET of a fetched .info is a HIT (X-Cache: $xc)" '^200 HIT$' "$code $xc"
wait_origin_paths_cached # commits trail their responses

# 2. Origin down, client with an empty module cache and sumdb memory.
stop_origin
go_env offline1
cd "$GO_HOME/work" || die "no work dir"
download_all "origin down"
expect_hit "origin down" "/github.com/%21burnt%21sushi/toml/@v/v1.2.0.zip"
expect_hit "origin down" "/github.com/patrickmn/go-cache/@v/v2.1.0+incompatible.mod"
expect_hit "origin down" "/sumdb/$GOSUMDB_NAME/supported"

# A list seen before is served (fresh or stale) rather than failing.
code="$(http_get "$PROXY_URL/$LIST_MOD/@v/list")"
xc="$(header X-Cache)"
if [[ "$code" == 200 && "$xc" =~ ^(HIT|STALE)$ ]] && cmp -s "$WORK/last.body" "$FIXTURE/$LIST_MOD/@v/list"; then
  pass "origin down: a cached @v/list is served (X-Cache: $xc)"
else fail "origin down: a cached @v/list is served" "status $code, X-Cache [$xc]"; fi

# Something never fetched fails, and fails in bounded time.
start=$SECONDS
code="$(http_get "$PROXY_URL/github.com/spf13/pflag/@v/v1.0.5.zip" "$WORK/miss.body" --max-time 60)"
if [[ "$code" =~ ^[45][0-9][0-9]$ ]]; then pass "origin down: an uncached zip is an error ($code) after $((SECONDS - start))s"
else fail "origin down: an uncached zip is an error" "status [$code] after $((SECONDS - start))s"; fi

# 3. Restart modgate on the same cache directory, origin still down.
stop_modgate
start_modgate --cache-dir "$cache"
go_env offline2
cd "$GO_HOME/work" || die "no work dir"
download_all "after restart, origin down"
expect_hit "after restart, origin down" "/github.com/google/uuid/@v/v1.3.0.zip"
expect_hit "after restart, origin down" "/gopkg.in/check.v1/@v/v0.0.0-20161208181325-20d25e280405.info"
out="$(timeout 120 go list -m -versions "$LIST_MOD" 2>&1)"
assert_eq "after restart, origin down: go list -m -versions $LIST_MOD" "$LIST_WANT" "$out"

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
