# shellcheck shell=bash
# shellcheck disable=SC2034  # variables here are read by the sourcing test scripts
# Shared helpers for modgate's end-to-end tests (sourced, not run).
#
# A test script does:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   integ_init                      # work dir, traps, fixture origin, tools
#   start_origin [origin.py flags]  # ORIGIN_PORT ORIGIN_URL ORIGIN_LOG
#   start_modgate [modgate flags]   # PROXY_URL ADMIN_URL MODGATE_CACHE
#   go_env NAME                     # fresh GOPATH/GOMODCACHE/GOCACHE/HOME + GOPROXY etc.
#   ... pass/fail/skip/assert_* ... # each prints one "PASS: case" / "FAIL: case: why" line
#   finish                          # summary line, exit status
#
# Environment (all optional):
#   MODGATE_BIN              the binary under test (default: runfiles //source/exe:modgate,
#                            then <repo>/bazel-bin/source/exe/modgate)
#   MODGATE_FIXTURE_ORIGIN   an already built fixture origin (make-origin.sh output)
#   MODGATE_FIXTURES_DIR     where make-origin.sh lives (default: <repo>/../shared/fixtures)
#   MODGATE_FIXTURE_CACHE    where to build the origin when MODGATE_FIXTURE_ORIGIN is unset
#   MODGATE_LOG_LEVEL        passed as --log-level to modgate
#   MODGATE_EXTRA_ARGS       extra words appended to modgate's command line
#   MODGATE_READY_TIMEOUT    seconds to wait for /ready (default 120)
#   MODGATE_KEEP_TMP=1       keep the work directory of a direct (non-Bazel) run

set -u -o pipefail

# ---- locations -------------------------------------------------------------

# Where this file is as seen by the caller (a runfiles tree under Bazel) and
# in the real source tree (runfiles are symlinks into it).
INTEG_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
INTEG_REAL_DIR="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
REPO_ROOT="$(cd "$INTEG_REAL_DIR/../.." && pwd)"
TEST_NAME="$(basename "${0%.sh}")"
ORIGIN_PY="$INTEG_DIR/origin.py"

_LIB_PIDS=()          # processes this test started (killed on exit)
_LIB_PASSED=0
_LIB_FAILED=0
_LIB_SKIPPED=0
_LIB_FINISHED=0
_LIB_OWN_WORK=0

log() { printf '[%s %s] %s\n' "$TEST_NAME" "$(date +%H:%M:%S)" "$*" >&2; }

# Print a file's last lines, indented so they never look like PASS/FAIL lines.
show_tail() { # FILE [LINES] [LABEL]
  local f="$1" n="${2:-30}" label="${3:-$1}"
  [[ -s "$f" ]] || return 0
  echo "    --- last $n lines of $label ---"
  tail -n "$n" "$f" | sed 's/^/    | /'
}

# ---- results ---------------------------------------------------------------

pass() { _LIB_PASSED=$((_LIB_PASSED + 1)); echo "PASS: $1"; }
fail() { _LIB_FAILED=$((_LIB_FAILED + 1)); echo "FAIL: $1: ${2:-failed}"; }
skip() { _LIB_SKIPPED=$((_LIB_SKIPPED + 1)); echo "SKIP: $1: ${2:-skipped}"; }

# Fatal: the rest of the script cannot run.
die() {
  fail "${TEST_NAME}: setup" "$*"
  _dump_server_logs
  finish
}

assert_eq() { # CASE EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then pass "$1"; else
    fail "$1" "expected [$2], got [$3]"; fi
}

assert_match() { # CASE REGEX ACTUAL
  if [[ "$3" =~ $2 ]]; then pass "$1"; else
    fail "$1" "[$3] does not match /$2/"; fi
}

# check CASE [--timeout SECS] -- CMD...: PASS when CMD exits 0; on failure its
# output is shown (indented).
check() {
  local name="$1" secs=300; shift
  if [[ "${1:-}" == --timeout ]]; then secs="$2"; shift 2; fi
  [[ "${1:-}" == -- ]] && shift
  local out="$WORK/check.out" rc
  timeout -k 5 "$secs" "$@" >"$out" 2>&1; rc=$?
  if ((rc == 0)); then pass "$name"; else
    if ((rc == 124)); then fail "$name" "timed out after ${secs}s: $*"; else
      fail "$name" "exit $rc: $*"; fi
    show_tail "$out" 40 output
  fi
  return $rc
}

# finish: print the summary and exit 1 if anything failed (or nothing ran).
finish() {
  _LIB_FINISHED=1
  echo "== $TEST_NAME: $_LIB_PASSED passed, $_LIB_FAILED failed, $_LIB_SKIPPED skipped"
  if ((_LIB_FAILED > 0)); then exit 1; fi
  if ((_LIB_PASSED == 0 && _LIB_SKIPPED == 0)); then
    echo "FAIL: $TEST_NAME: no case ran"; exit 1
  fi
  exit 0
}

# ---- processes -------------------------------------------------------------

_kill_pid() { # PID [GRACE_SECONDS]
  local pid="$1" grace="${2:-5}" i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

_forget_pid() {
  local keep=() p
  for p in "${_LIB_PIDS[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
  _LIB_PIDS=("${keep[@]}")
}

_dump_server_logs() {
  [[ -n "${MODGATE_STDERR:-}" ]] && show_tail "$MODGATE_STDERR" 40 "modgate output"
  [[ -n "${ORIGIN_STDERR:-}" ]] && show_tail "$ORIGIN_STDERR" 10 "origin output"
  return 0
}

_on_exit() {
  local rc=$?
  trap - EXIT
  if ((_LIB_FINISHED == 0)); then
    echo "FAIL: $TEST_NAME: aborted (exit $rc) before finishing"
    _dump_server_logs
    rc=1
  fi
  local p
  for p in "${_LIB_PIDS[@]}"; do _kill_pid "$p" 3; done
  if ((_LIB_OWN_WORK == 1)) && [[ -d "$WORK" ]]; then
    if [[ "${MODGATE_KEEP_TMP:-0}" == 1 ]]; then
      echo "work directory kept: $WORK" >&2
    else
      chmod -R u+w "$WORK" 2>/dev/null
      rm -rf "$WORK"
    fi
  elif [[ -d "$WORK" ]]; then
    # Go's module cache is read-only; let Bazel remove TEST_TMPDIR.
    chmod -R u+w "$WORK" 2>/dev/null
  fi
  exit "$rc"
}

_on_signal() {
  echo "FAIL: $TEST_NAME: terminated by signal $1"
  _LIB_FINISHED=1
  _LIB_FAILED=$((_LIB_FAILED + 1))
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---- fixture origin --------------------------------------------------------

# ensure_fixture: sets FIXTURE to a built fixture origin and reads sumdb.env
# (GOSUMDB_NAME, GOSUMDB_KEY). Builds it once per machine and fixture
# version when MODGATE_FIXTURE_ORIGIN is unset.
ensure_fixture() {
  if [[ -n "${MODGATE_FIXTURE_ORIGIN:-}" ]]; then
    FIXTURE="$MODGATE_FIXTURE_ORIGIN"
  else
    local fixtures="${MODGATE_FIXTURES_DIR:-$REPO_ROOT/../shared/fixtures}"
    [[ -x "$fixtures/make-origin.sh" ]] ||
      die "no fixture origin: set MODGATE_FIXTURE_ORIGIN, or MODGATE_FIXTURES_DIR to the directory holding make-origin.sh (tried $fixtures)"
    fixtures="$(cd "$fixtures" && pwd)"
    local key cache
    key="$(cat "$fixtures/make-origin.sh" "$fixtures/corpus.txt" "$fixtures"/gen/*.go 2>/dev/null | sha256sum | cut -c1-12)"
    cache="${MODGATE_FIXTURE_CACHE:-${TMPDIR:-/tmp}/modgate-fixture-origin-$(id -u)}"
    if ! mkdir -p "$cache" 2>/dev/null || [[ ! -w "$cache" ]]; then cache="$WORK/fixture-cache"; mkdir -p "$cache"; fi
    FIXTURE="$cache/origin-$key"
    if [[ ! -f "$FIXTURE/sumdb.env" ]]; then
      log "building the fixture origin into $FIXTURE (make-origin.sh, ~10 s)"
      (
        flock -w 600 9 || exit 1
        [[ -f "$FIXTURE/sumdb.env" ]] && exit 0
        rm -rf "$FIXTURE.tmp"
        "$fixtures/make-origin.sh" "$FIXTURE.tmp" >"$cache/make-origin.log" 2>&1 || exit 1
        mv "$FIXTURE.tmp" "$FIXTURE"
      ) 9>"$cache/lock" || { show_tail "$cache/make-origin.log" 30; die "make-origin.sh failed"; }
    fi
  fi
  [[ -f "$FIXTURE/sumdb.env" && -f "$FIXTURE/manifest.txt" && -f "$FIXTURE/go.sum" ]] ||
    die "$FIXTURE is not a fixture origin (no sumdb.env/manifest.txt/go.sum)"
  FIXTURE="$(cd "$FIXTURE" && pwd)"
  # shellcheck disable=SC1091
  source "$FIXTURE/sumdb.env"
  [[ -n "${GOSUMDB_KEY:-}" && -n "${GOSUMDB_NAME:-}" ]] || die "$FIXTURE/sumdb.env lacks GOSUMDB_KEY"
  export MODGATE_FIXTURE_ORIGIN="$FIXTURE"
}

# Escape a module path or version the go command's way (upper case -> !lower).
go_escape() { sed -E 's/([A-Z])/!\L\1/g' <<<"$1"; }

# ---- origin ----------------------------------------------------------------

# start_origin [origin.py flags]: sets ORIGIN_PID ORIGIN_PORT ORIGIN_URL
# ORIGIN_LOG (request log, one "METHOD PATH STATUS BYTES" line each).
_ORIGIN_N=0
start_origin() {
  _ORIGIN_N=$((_ORIGIN_N + 1))
  local dir="$WORK/origin.$_ORIGIN_N" i
  mkdir -p "$dir"
  ORIGIN_LOG="$dir/requests.log"
  ORIGIN_STDERR="$dir/stderr.log"
  : >"$ORIGIN_LOG"
  python3 "$ORIGIN_PY" --root "$FIXTURE" --port "${ORIGIN_FIXED_PORT:-0}" --port-file "$dir/port" \
    --log "$ORIGIN_LOG" "$@" >"$ORIGIN_STDERR" 2>&1 &
  ORIGIN_PID=$!
  _LIB_PIDS+=("$ORIGIN_PID")
  # A generous deadline: python starts in well under a second on a quiet
  # machine, but CI shares its 2 cores with the build.
  for ((i = 0; i < 1200; i++)); do
    [[ -s "$dir/port" ]] && break
    kill -0 "$ORIGIN_PID" 2>/dev/null || die "origin.py exited at start"
    sleep 0.05
  done
  [[ -s "$dir/port" ]] || die "origin.py did not report its port within 60 s"
  ORIGIN_PORT="$(cat "$dir/port")"
  ORIGIN_URL="http://127.0.0.1:$ORIGIN_PORT"
  log "origin on $ORIGIN_URL (pid $ORIGIN_PID) $*"
}

stop_origin() {
  [[ -n "${ORIGIN_PID:-}" ]] || return 0
  _kill_pid "$ORIGIN_PID" 5
  _forget_pid "$ORIGIN_PID"
  log "origin stopped"
  ORIGIN_PID=""
}

# How many times the origin was asked for PATH (exact raw request path).
path_lines() { # PATH FILE: lines whose second field is PATH
  awk -v p="$1" '$2 == p { n++ } END { print n + 0 }' "$2"
}

# reset_origin_log: forget the requests logged so far (both the request log
# and its LOG.start companion, which origin_requests compares it with).
reset_origin_log() { : >"$ORIGIN_LOG"; [[ -f "$ORIGIN_LOG.start" ]] && : >"$ORIGIN_LOG.start"; return 0; }

origin_requests() { # PATH [LOG]
  local log="${2:-$ORIGIN_LOG}" started deadline=$((SECONDS + 5))
  # The origin logs a request after sending its body, so a client can hold
  # the whole answer a moment before the line appears: wait (5 s at most,
  # only while a started request is unlogged) until every request for PATH
  # that arrived (LOG.start) is logged.
  while ((SECONDS < deadline)); do
    [[ -f "$log.start" ]] || break
    started="$(path_lines "$1" "$log.start")"
    ((started <= $(path_lines "$1" "$log"))) && break
    sleep 0.02
  done
  path_lines "$1" "$log"
}

# ---- modgate ---------------------------------------------------------------

find_modgate() {
  local c
  for c in "${MODGATE_BIN:-}" \
    "${TEST_SRCDIR:-/nonexistent}/modgate/source/exe/modgate" \
    "${RUNFILES_DIR:-/nonexistent}/modgate/source/exe/modgate" \
    "$INTEG_DIR/../../source/exe/modgate" \
    "$REPO_ROOT/bazel-bin/source/exe/modgate"; do
    if [[ -n "$c" && -x "$c" && ! -d "$c" ]]; then MODGATE="$c"; return 0; fi
  done
  die "modgate binary not found: set MODGATE_BIN or build //source/exe:modgate"
}

# start_modgate [--cache-dir DIR] [--upstream URL] [-c FILE] [other modgate flags]:
# starts modgate on free ports and waits for GET /ready. Sets MODGATE_PID
# MODGATE_PORT MODGATE_ADMIN_PORT PROXY_URL ADMIN_URL MODGATE_CACHE MODGATE_STDERR.
# With -c FILE (a config file) no --upstream is passed unless one is given,
# so the file's clusters and routes apply.
_MODGATE_N=0
start_modgate() {
  local cache="" upstream="${ORIGIN_URL:-}" extra=() config="" explicit_upstream=0
  while (($#)); do
    case "$1" in
      --cache-dir) cache="$2"; shift 2 ;;
      --upstream) upstream="$2"; explicit_upstream=1; shift 2 ;;
      -c | --config) config="$2"; shift 2 ;;
      *) extra+=("$1"); shift ;;
    esac
  done
  local upstream_args=()
  if [[ -n "$config" ]]; then
    extra=(-c "$config" "${extra[@]}")
    ((explicit_upstream)) && upstream_args=(--upstream "$upstream")
  else
    [[ -n "$upstream" ]] || die "start_modgate: no upstream (start_origin first or pass --upstream)"
    upstream_args=(--upstream "$upstream")
  fi
  [[ -n "$cache" ]] || cache="$WORK/cache"
  mkdir -p "$cache"
  [[ -n "${MODGATE_LOG_LEVEL:-}" ]] && extra+=(--log-level "$MODGATE_LOG_LEVEL")
  # shellcheck disable=SC2206
  [[ -n "${MODGATE_EXTRA_ARGS:-}" ]] && extra+=($MODGATE_EXTRA_ARGS)
  local timeout="${MODGATE_READY_TIMEOUT:-120}" i code
  for _ in 1 2 3; do
    _MODGATE_N=$((_MODGATE_N + 1))
    MODGATE_PORT="$(free_port)"
    MODGATE_ADMIN_PORT="$(free_port)"
    while [[ "$MODGATE_ADMIN_PORT" == "$MODGATE_PORT" ]]; do MODGATE_ADMIN_PORT="$(free_port)"; done
    MODGATE_STDERR="$WORK/modgate.$_MODGATE_N.log"
    MODGATE_CMD=("$MODGATE" --listen "127.0.0.1:$MODGATE_PORT" --admin "127.0.0.1:$MODGATE_ADMIN_PORT"
      "${upstream_args[@]}" --cache-dir "$cache" "${extra[@]}")
    "${MODGATE_CMD[@]}" >"$MODGATE_STDERR" 2>&1 &
    MODGATE_PID=$!
    _LIB_PIDS+=("$MODGATE_PID")
    PROXY_URL="http://127.0.0.1:$MODGATE_PORT"
    ADMIN_URL="http://127.0.0.1:$MODGATE_ADMIN_PORT"
    MODGATE_CACHE="$cache"
    for ((i = 0; i < timeout * 10; i++)); do
      kill -0 "$MODGATE_PID" 2>/dev/null || break
      code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$ADMIN_URL/ready")"
      if [[ "$code" == 200 ]]; then
        log "modgate on $PROXY_URL admin $ADMIN_URL (pid $MODGATE_PID) cache $cache"
        return 0
      fi
      sleep 0.1
    done
    if kill -0 "$MODGATE_PID" 2>/dev/null; then
      die "modgate not ready within ${timeout}s (last /ready status: ${code:-none}): ${MODGATE_CMD[*]}"
    fi
    wait "$MODGATE_PID"; local rc=$?
    _forget_pid "$MODGATE_PID"
    if grep -qiE 'address (already )?in use|EADDRINUSE' "$MODGATE_STDERR"; then
      log "port clash, retrying with other ports"; continue
    fi
    die "modgate exited with status $rc at start: ${MODGATE_CMD[*]}"
  done
  die "modgate could not bind free ports in 3 attempts"
}

stop_modgate() {
  [[ -n "${MODGATE_PID:-}" ]] || return 0
  _kill_pid "$MODGATE_PID" 10
  _forget_pid "$MODGATE_PID"
  log "modgate stopped"
  MODGATE_PID=""
}

modgate_alive() { [[ -n "${MODGATE_PID:-}" ]] && kill -0 "$MODGATE_PID" 2>/dev/null; }

# ---- HTTP ------------------------------------------------------------------

# http_get URL [BODY_FILE] [curl flags]: prints the status code; headers go
# to $WORK/last.headers, the body to BODY_FILE (default $WORK/last.body).
http_get() {
  local url="$1" body="${2:-$WORK/last.body}"
  shift; (($#)) && shift
  curl -sS --max-time 60 -o "$body" -D "$WORK/last.headers" -w '%{http_code}' "$@" "$url" 2>"$WORK/last.curlerr" ||
    { [[ -s "$WORK/last.curlerr" ]] && sed 's/^/    curl: /' "$WORK/last.curlerr" >&2; }
}

# header NAME [FILE]: a response header's value (last one), CR stripped.
header() {
  local f="${2:-$WORK/last.headers}"
  awk -v n="$(tr 'A-Z' 'a-z' <<<"$1")" -F': *' '
    { sub(/\r$/, "") }
    tolower($1) == n { sub(/^[^:]*: */, ""); v = $0 }
    END { print v }' "$f"
}

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# ---- the go command --------------------------------------------------------

# go_env NAME: fresh GOPATH, GOMODCACHE, GOCACHE and HOME under $WORK/go-NAME,
# pointed at the proxy (GOPROXY=$PROXY_URL, no direct) with the fixture sumdb
# reached through the proxy (GOSUMDB=key only). Sets GO_HOME; cds nowhere.
go_env() {
  GO_HOME="$WORK/go-$1"
  [[ -d "$GO_HOME" ]] && { chmod -R u+w "$GO_HOME"; rm -rf "$GO_HOME"; }
  mkdir -p "$GO_HOME/gopath" "$GO_HOME/cache" "$GO_HOME/home" "$GO_HOME/tmp" "$GO_HOME/work"
  export GOPATH="$GO_HOME/gopath" GOMODCACHE="$GO_HOME/gopath/pkg/mod" GOCACHE="$GO_HOME/cache"
  export HOME="$GO_HOME/home" GOTMPDIR="$GO_HOME/tmp"
  export GOPROXY="$PROXY_URL" GOSUMDB="$GOSUMDB_KEY" GOFLAGS=-mod=mod GOENV=off
  export GONOSUMDB='' GOPRIVATE='' GONOPROXY='' GOINSECURE='' CGO_ENABLED=0 GOTOOLCHAIN=local
  unset GOWORK GO111MODULE
}

# The part of a test config after its listeners: admin on $ADMIN_PORT, the
# cache in $WORK/cache, and one cluster "origin" ($ORIGIN_URL) that every
# request is routed to. For a heredoc: `$(origin_yaml)` on a line of its own.
origin_yaml() {
  cat <<YAML
admin:
  address: 127.0.0.1:$ADMIN_PORT
cache:
  dir: $WORK/cache
clusters:
  - name: origin
    endpoints:
      - url: $ORIGIN_URL
routes:
  - cluster: origin
YAML
}

# The program the go build tests compile: it imports uuid, cobra and testify,
# whose versions the go command resolves through the proxy, and prints
# DEMO_OUTPUT.
DEMO_OUTPUT="demo 05b16a01-46c6-56dd-bd6e-c6dfb4a1427a true"
write_demo_main() { # FILE
  cat >"$1" <<'GO'
package main

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
)

func main() {
	cmd := &cobra.Command{Use: "demo"}
	fmt.Println(cmd.Name(), uuid.NewSHA1(uuid.NameSpaceDNS, []byte("x")), assert.ObjectsAreEqual(1, 1))
}
GO
}

# The fixture go.sum line for MODULE VERSION (zip hash) or MODULE VERSION/go.mod.
fixture_sum() { awk -v m="$1" -v v="$2" '$1 == m && $2 == v { print $3 }' "$FIXTURE/go.sum"; }

# ---- init ------------------------------------------------------------------

# integ_init [--no-fixture]: work directory, traps, tools, fixture, binary.
integ_init() {
  if [[ -n "${TEST_TMPDIR:-}" ]]; then
    WORK="$TEST_TMPDIR/$TEST_NAME"
    mkdir -p "$WORK"
  else
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/modgate-$TEST_NAME.XXXXXX")"
    _LIB_OWN_WORK=1
  fi
  trap _on_exit EXIT
  trap '_on_signal TERM' TERM
  trap '_on_signal INT' INT
  local t
  for t in python3 curl timeout awk sha256sum flock; do
    command -v "$t" >/dev/null || die "required tool missing: $t"
  done
  [[ "${1:-}" == --no-fixture ]] || ensure_fixture
  find_modgate
  log "work $WORK; modgate $MODGATE; fixture ${FIXTURE:-none}"
}

# ---- helpers for the newer tests ---------------------------------------------

# go_download_sums CASE MODULE@VERSION...: `go mod download -json` of the
# modules in the current go env (go_env first; run from a directory without a
# go.mod); one PASS when it succeeds and every Sum equals the fixture go.sum,
# else one FAIL with go's stderr. Output in $WORK/dl.json, $WORK/dl.err.
go_download_sums() {
  local name="$1"; shift
  local mv m v got want bad=0
  if ! timeout -k 5 300 go mod download -json "$@" >"$WORK/dl.json" 2>"$WORK/dl.err"; then
    fail "$name" "go mod download $* failed"
    show_tail "$WORK/dl.err" 20 "go stderr"
    grep '"Error"' "$WORK/dl.json" | sed 's/^/    /' | head -10
    return 1
  fi
  for mv in "$@"; do
    m="${mv%@*}" v="${mv#*@}"
    want="$(fixture_sum "$m" "$v")"
    got="$(python3 -c '
import json, sys
text, dec, i = open(sys.argv[1]).read(), json.JSONDecoder(), 0
while i < len(text):
    if text[i].isspace(): i += 1; continue
    o, i = dec.raw_decode(text, i)
    if o.get("Path") == sys.argv[2] and o.get("Version") == sys.argv[3]: print(o.get("Sum", ""))
' "$WORK/dl.json" "$m" "$v")"
    [[ -n "$want" && "$got" == "$want" ]] || { echo "    $mv: got [$got], fixture [$want]"; bad=1; }
  done
  if ((bad == 0)); then pass "$name"; else fail "$name" "sums differ from the fixture go.sum"; return 1; fi
}

# origin_lines REGEX [LOG]: the request log lines whose path matches REGEX
# (extended regex), for messages.
origin_lines() { awk -v re="$1" '$2 ~ re' "${2:-$ORIGIN_LOG}"; }

# origin_count REGEX [LOG]: how many requests' paths match REGEX.
origin_count() { awk -v re="$1" '$2 ~ re { n++ } END { print n + 0 }' "${2:-$ORIGIN_LOG}"; }

# admin_get PATH [curl flags]: like http_get against the admin address.
admin_get() { local p="$1"; shift; http_get "$ADMIN_URL$p" "$WORK/admin.body" "$@"; }

# copy_fixture DEST: a copy of the fixture tree at DEST (removed first) to
# modify: hard links where the file system allows (files that are changed
# must be replaced, not written in place), else a real copy. Under Bazel's
# sandbox hard links across its mounts fail, hence the fallback.
copy_fixture() {
  local dest="$1" src
  # A symlinked fixture would be copied as the link, and the caller's
  # changes would land in the shared fixture itself.
  src="$(readlink -f "$FIXTURE")" || return 1
  rm -rf "${dest:?}"
  if ! cp -al "$src" "$dest" 2>/dev/null; then
    rm -rf "${dest:?}"
    cp -a "$src" "$dest" || return 1
  fi
  [[ ! -L "$dest" ]] || return 1
  [[ -f "$dest/manifest.txt" ]]
}

# prom_value METRIC [LABEL=VALUE...]: the sum of the samples of METRIC whose
# labels include all the given ones (0 when none).
prom_value() {
  local metric="$1"; shift
  curl -s --max-time 5 "$ADMIN_URL/stats/prometheus" | python3 -c '
import re, sys
metric, want = sys.argv[1], sys.argv[2:]
total = 0.0
for line in sys.stdin:
    m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)", line)
    if not m or m.group(1) != metric:
        continue
    labels = dict(re.findall(r"(\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"", m.group(3) or ""))
    if all(labels.get(k) == v for k, v in (w.split("=", 1) for w in want)):
        total += float(m.group(4))
print(int(total) if total == int(total) else total)' "$metric" "$@"
}

# rss_bounds_apply CASE: 0 when a peak-RSS bound means something here; under
# a sanitizer (MODGATE_SANITIZER, set by --config=asan) it records CASE as
# skipped and returns 1, since the sanitizer's shadow memory and quarantine
# make up most of the RSS. The plain build checks the bound.
rss_bounds_apply() {
  [[ -z "${MODGATE_SANITIZER:-}" ]] && return 0
  skip "$1" "RSS under ${MODGATE_SANITIZER} sanitizer is mostly its shadow memory and quarantine; the plain build checks it"
  return 1
}

# wait_until SECS CMD...: run CMD every 0.1 s until it succeeds (0) or SECS
# pass (1). WAITED_MS is the time it took. Tests wait for the event they
# expect with a generous SECS (10x what a quiet machine needs) and report
# WAITED_MS as information, never as a pass/fail bound: CI shares 2 cores
# with the build.
wait_until() {
  local secs="$1"; shift
  local start now
  start="$(date +%s%N)"
  while :; do
    if "$@"; then
      now="$(date +%s%N)"; WAITED_MS=$(((now - start) / 1000000)); return 0
    fi
    now="$(date +%s%N)"
    if (((now - start) / 1000000 >= secs * 1000)); then WAITED_MS=$(((now - start) / 1000000)); return 1; fi
    sleep 0.1
  done
}

# median_time FILE: the median of the second field of FILE's lines (a client's
# "code seconds" lines), printed as information beside a correctness check.
median_time() { awk '{ print $2 }' "$1" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# cache_entries_at_least N: modgate's cache holds at least N committed
# entries (modgate_cache_entries, read at scrape time). A commit trails the
# response that streamed the body, so a test that expects a HIT next waits
# for this instead of sleeping.
cache_entries_at_least() { (($(prom_value modgate_cache_entries) >= $1)); }

# wait_cached N: wait (30 s at most) until the cache holds N entries.
wait_cached() {
  wait_until 30 cache_entries_at_least "$1" && return 0
  log "the cache still holds $(prom_value modgate_cache_entries) entries, not $1, after 30 s"
  return 1
}

# cached_no_fetch PATH: modgate answers PATH from its cache alone (a GET with
# Disable-Module-Fetch: true is 200: HIT or STALE).
cached_no_fetch() {
  [[ "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H 'Disable-Module-Fetch: true' \
    "$PROXY_URL$1")" == 200 ]]
}

# wait_origin_paths_cached [LOG]: every path the origin answered 200 is in
# modgate's cache (30 s at most each). Commits trail the responses whose
# bodies they hold; wait for them before taking the origin away.
wait_origin_paths_cached() {
  local p ok=0
  while read -r p; do
    wait_until 30 cached_no_fetch "$p" || { log "$p is not cached after 30 s"; ok=1; }
  done < <(awk '$3 == 200 { print $2 }' "${1:-$ORIGIN_LOG}" | sort -u)
  return $ok
}
