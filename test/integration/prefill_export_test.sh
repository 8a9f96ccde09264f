#!/usr/bin/env bash
# Prefill and export for air-gapped builds (issue 13):
# - `modgate prefill --go-sum` with no modgate running starts its own on the
#   cache, fetches every module version of the fixture's go.sum through it
#   (each .mod and .zip checked against its go.sum line) and stops it;
# - with a modgate running on the cache it goes through that one;
# - a go.sum line that does not match is a non-zero exit naming the module,
#   and what was fetched for it is purged again;
# - the origin stopped, `go build` of a program that needs those modules
#   succeeds through a modgate on the prefilled cache;
# - `modgate export DIR` (beside the running modgate) writes a GOPROXY tree
#   with which `GOPROXY=file://DIR GOFLAGS=-mod=mod go build` succeeds, also
#   without a go.sum (the checksum database's cached tiles and lookups are
#   exported with it), and `--module` exports only the modules it matches;
# - a second modgate whose only upstream is file:// of that tree serves the
#   same go build (the origin is still stopped).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing (apt-get install golang-go)"

start_origin
TOTAL="$(awk '{ sub("/go.mod", "", $2); print $1, $2 }' "$FIXTURE/go.sum" | sort -u | wc -l)"

# The program: uuid, cobra and testify, at the fixture's versions.
make_app() { # DIR [with-go.sum]
  mkdir -p "$1"
  cat >"$1/go.mod" <<'EOF2'
module example.com/app

go 1.19

require (
	github.com/google/uuid v1.3.0
	github.com/spf13/cobra v1.6.1
	github.com/stretchr/testify v1.8.1
)
EOF2
  write_demo_main "$1/main.go"
  [[ "${2:-}" == with-go.sum ]] && cp "$FIXTURE/go.sum" "$1/go.sum"
  return 0
}
build_and_run() { # CASE DIR
  if check "$1" --timeout 600 -- bash -c "cd '$2' && go build -o demo ."; then
    assert_eq "$1: the program runs" "$DEMO_OUTPUT" "$(cd "$2" && timeout 30 ./demo 2>&1)"
  fi
}

# ---- prefill without a running modgate -------------------------------------------------
GOSUMDB="$GOSUMDB_KEY" timeout 900 "$MODGATE" prefill --go-sum "$FIXTURE/go.sum" --cache-dir "$WORK/cacheA" \
  --upstream "$ORIGIN_URL" --parallel 4 >"$WORK/prefillA.out" 2>&1
rc=$?
assert_eq "prefill --go-sum (no modgate running): exit 0" 0 "$rc"
((rc == 0)) || show_tail "$WORK/prefillA.out" 20 "prefill output"
assert_match "prefill prints a summary: $TOTAL module versions, 0 failed" \
  "^prefill: $TOTAL module versions, 0 failed, " "$(grep '^prefill: [0-9]* module versions' "$WORK/prefillA.out")"
assert_eq "not a terminal: one plain line per module version" "$TOTAL" "$(grep -c '^prefill: \[[0-9]*/[0-9]*\] ok ' "$WORK/prefillA.out")"
assert_match "with \$GOSUMDB set, the checksum database's data for every one" \
  "^prefill: checksum database $GOSUMDB_NAME: data for $TOTAL, none for 0, 0 private" \
  "$(grep '^prefill: checksum database' "$WORK/prefillA.out")"
zips="$(find "$WORK/cacheA/v1" -name '*.zip' | wc -l)"
want_zips="$(grep -vc '/go.mod ' "$FIXTURE/go.sum")"
assert_eq "every zip of the go.sum is in the cache" "$want_zips" "$zips"
flock -n "$WORK/cacheA/LOCK" true && pass "prefill stopped the modgate it started (the cache is free)" ||
  fail "prefill stopped the modgate it started" "the cache is still locked"

# ---- a go.sum line that does not match -------------------------------------------------
sed 's|^\(github.com/google/uuid v1.2.0 h1:\).*|\1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=|' "$FIXTURE/go.sum" |
  grep '^github.com/google/uuid ' >"$WORK/bad.sum"
timeout 300 "$MODGATE" prefill --go-sum "$WORK/bad.sum" --cache-dir "$WORK/cacheBad" \
  --upstream "$ORIGIN_URL" >"$WORK/prefillBad.out" 2>&1
rc=$?
assert_eq "a mismatching go.sum line: exit 1" 1 "$rc"
assert_match "the failure names the module version and both hashes" \
  'FAILED github.com/google/uuid@v1.2.0: .zip: go.sum has h1:AAAA.*, got h1:' "$(cat "$WORK/prefillBad.out")"
[[ ! -e "$WORK/cacheBad/v1/github.com/google/uuid/@v/v1.2.0.zip" ]] &&
  pass "the mismatching zip was purged from the cache" ||
  fail "the mismatching zip was purged from the cache" "still there"
[[ -e "$WORK/cacheBad/v1/github.com/google/uuid/@v/v1.3.0.zip" ]] &&
  pass "the other versions of the module were cached" || fail "the other versions were cached" "v1.3.0.zip missing"

# ---- prefill through a running modgate, from a list --------------------------------------
start_modgate --cache-dir "$WORK/cacheB"
printf '# warm-up list\ngithub.com/google/uuid@v1.3.0\ngithub.com/spf13/pflag v1.0.5\n' >"$WORK/list.txt"
reset_origin_log
timeout 300 "$MODGATE" prefill --list "$WORK/list.txt" --cache-dir "$WORK/cacheB" \
  --listen "127.0.0.1:$MODGATE_PORT" --admin "127.0.0.1:$MODGATE_ADMIN_PORT" >"$WORK/prefillB.out" 2>&1
assert_eq "prefill --list with modgate running: exit 0" 0 "$?"
assert_match "it went through the running modgate" "through the running modgate on 127.0.0.1:$MODGATE_PORT" \
  "$(cat "$WORK/prefillB.out")"
assert_eq "the running modgate fetched the 6 files from the origin" 6 \
  "$(origin_count '^/github.com/(google/uuid/@v/v1.3.0|spf13/pflag/@v/v1.0.5)\.(info|mod|zip)$')"
timeout 60 "$MODGATE" prefill --list /dev/null --go-sum "$WORK/list.txt" >/dev/null 2>&1
assert_eq "two inputs at once is a usage error (exit 2)" 2 "$?"

# A go build without go.sum through this modgate caches the checksum
# database's lookups and tiles too (exported below).
go_env online
make_app "$GO_HOME/work/app"
build_and_run "go build through modgate, origin up, no go.sum" "$GO_HOME/work/app"

# ---- origin stopped: the prefilled cache serves the build ---------------------------------
stop_origin
stop_modgate
start_modgate --cache-dir "$WORK/cacheA"
go_env offline
make_app "$GO_HOME/work/app" with-go.sum
build_and_run "origin stopped: go build through modgate on the prefilled cache" "$GO_HOME/work/app"

# ---- the prefilled cache alone, exported, verifies offline ---------------------------------
# No go build went through cacheA without a go.sum: its checksum data came from prefill.
stop_modgate
timeout 300 "$MODGATE" export "$WORK/treeA" --cache-dir "$WORK/cacheA" >"$WORK/exportA.out" 2>&1
assert_eq "export of the prefilled cache: exit 0" 0 "$?"
go_env treeA
export GOPROXY="file://$WORK/treeA"
make_app "$GO_HOME/work/app"
build_and_run "GOPROXY=file:// of the prefilled cache's export, no go.sum (verified offline)" \
  "$GO_HOME/work/app"

# ---- export ---------------------------------------------------------------------------
stop_modgate
start_modgate --cache-dir "$WORK/cacheB"
timeout 300 "$MODGATE" export "$WORK/tree" --cache-dir "$WORK/cacheB" >"$WORK/export.out" 2>&1
assert_eq "modgate export beside the running modgate: exit 0" 0 "$?"
assert_match "export prints a summary" '^modgate export: [0-9]+ modules, [0-9]+ versions, [0-9]+ files, [0-9]+ bytes, 1 checksum databases' \
  "$(cat "$WORK/export.out")"
[[ -f "$WORK/tree/sumdb/$GOSUMDB_NAME/supported" ]] && pass "the tree says it serves the checksum database" ||
  fail "the tree has sumdb/$GOSUMDB_NAME/supported" "missing"
assert_eq "the tree's uuid list holds the version exported (not the origin's whole list)" "v1.3.0" \
  "$(cat "$WORK/tree/github.com/google/uuid/@v/list" 2>/dev/null)"
go_env tree
export GOPROXY="file://$WORK/tree"
make_app "$GO_HOME/work/app"
build_and_run "GOPROXY=file:// of the export, GOFLAGS=-mod=mod, no go.sum (verified offline)" "$GO_HOME/work/app"

# ---- the exported tree as the only upstream of a second modgate ------------------------
# The other half of the air gap: a cluster endpoint may be a file:///DIR tree.
stop_modgate
start_modgate --cache-dir "$WORK/cacheTree" --upstream "file://$WORK/tree"
go_env from-tree
make_app "$GO_HOME/work/app"
build_and_run "a modgate whose only upstream is file:// of the export serves go build (no go.sum)" \
  "$GO_HOME/work/app"
assert_eq "a version the tree lacks is a 404 from the file upstream" 404 \
  "$(curl -s -o /dev/null -w '%{http_code}' "$PROXY_URL/github.com/google/uuid/@v/v0.0.1.info")"
assert_eq "a path with .. segments is refused (400)" 400 \
  "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$PROXY_URL/github.com/../../../etc/@v/list")"
assert_match "/clusters shows the file endpoint" "url::file://$WORK/tree" \
  "$(curl -s "http://127.0.0.1:$MODGATE_ADMIN_PORT/clusters")"
stop_modgate

timeout 300 "$MODGATE" export "$WORK/tree2" --cache-dir "$WORK/cacheB" --module 'github.com/google/*' >/dev/null 2>&1
assert_eq "export --module github.com/google/*: only uuid" "github.com/google/uuid" \
  "$(cd "$WORK/tree2" && find . -name list | sed 's|^\./||; s|/@v/list$||' | sort | tr '\n' ' ' | sed 's/ $//')"

finish
