#!/usr/bin/env bash
# A sidecar modgate behind an edge modgate (issue 14): the zip_resume_test
# cases with a modgate as the upstream. The sidecar's only endpoint is a
# relay (cut_relay.py) in front of the edge that closes the first connection
# whose response passes 300000 bytes, so the go command's zip download from
# the sidecar breaks mid-body and the sidecar must resume it from the edge
# with "Range: bytes=N-" (+ "If-Range: <ETag>" when the first answer had one):
#   1. warm edge: the first answer is the edge's HIT, with its strong ETag:
#      the sidecar resumes with If-Range, the edge answers 206 with the same
#      ETag, and the go command gets the fixture's zip (go.sum checked);
#   2. cold edge: the first answer is the edge's streamed MISS (no ETag yet):
#      the sidecar resumes with Range alone, the edge answers 206 (from the
#      fill it is still doing, or from its cache);
#   3. @v/list through both: when the sidecar's copy expires it revalidates
#      with the edge's ETag and the edge answers 304 (counted in its 3xx).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing (apt-get install golang-go)"

MOD=golang.org/x/sys

start_origin
start_modgate --cache-dir "$WORK/cache-edge"
EDGE_URL="$PROXY_URL" EDGE_ADMIN="$ADMIN_URL" EDGE_PID="$MODGATE_PID" EDGE_PORT="$MODGATE_PORT"
MODGATE_PID="" # the sidecar will be "the" modgate of lib.sh; the edge is stopped at exit

# start_relay NAME: a relay to the edge cutting its first long answer at 300000 bytes.
start_relay() {
  local dir="$WORK/relay-$1" i
  mkdir -p "$dir"
  python3 "$INTEG_DIR/cut_relay.py" --target "127.0.0.1:$EDGE_PORT" --port-file "$dir/port" \
    --cut-after 300000 --log "$dir/log" >"$dir/stderr" 2>&1 &
  _LIB_PIDS+=($!)
  for ((i = 0; i < 200; i++)); do [[ -s "$dir/port" ]] && break; sleep 0.05; done
  [[ -s "$dir/port" ]] || die "cut_relay.py did not start"
  RELAY_URL="http://127.0.0.1:$(cat "$dir/port")" RELAY_LOG="$dir/log"
}

# start_sidecar NAME: a sidecar whose one endpoint is a fresh relay.
start_sidecar() {
  start_relay "$1"
  cat >"$WORK/$1.yaml" <<YAML
cache:
  list_ttl: 1s
  stale_while_revalidate: 0s
clusters:
  - name: edge
    endpoints:
      - url: $RELAY_URL
    retry_policy:
      retry_on: [reset]
      num_retries: 2
routes:
  - name: all
    cluster: edge
sumdbs:
  - name: $GOSUMDB_NAME
YAML
  start_modgate -c "$WORK/$1.yaml" --cache-dir "$WORK/cache-$1"
}

# check_resume CASE VERSION IF_RANGE(yes|no)
check_resume() {
  local name="$1" v="$2" want_if_range="$3" size line
  size="$(stat -c %s "$FIXTURE/$MOD/@v/$v.zip")"
  if grep -q "^[0-9]* 300000 cut$" "$RELAY_LOG"; then pass "$name: the relay cut the zip's transfer at 300000 bytes"
  else fail "$name: the relay cut the transfer" "relay log: $(tr '\n' ';' <"$RELAY_LOG")"; fi
  line="$(grep "resuming /$MOD/@v/$v.zip at byte" "$MODGATE_STDERR" | head -1)"
  if [[ -n "$line" ]]; then pass "$name: the sidecar resumed: ${line##*resuming }"
  else fail "$name: the sidecar resumed the zip from the edge" "$(grep -iE 'resum|fail' "$MODGATE_STDERR" | tail -3)"; fi
  if grep -q "resuming at byte .* failed" "$MODGATE_STDERR"; then
    fail "$name: the edge's answer continued the zip" "$(grep 'failed' "$MODGATE_STDERR" | tail -2)"
  fi
  # The edge answers what the sidecar asked: ask it the same way.
  local at="${line##* at byte }"; at="${at%% *}"
  local args=(-H "Range: bytes=$at-")
  local etag
  etag="$(curl -s -o /dev/null -D - "$EDGE_URL/$MOD/@v/$v.zip" | awk -F': ' 'tolower($1) == "etag" { print $2 }' | tr -d '\r')"
  [[ "$want_if_range" == yes ]] && args+=(-H "If-Range: $etag")
  local code
  code="$(curl -s -o "$WORK/rest" -D "$WORK/rest.h" -w '%{http_code}' "${args[@]}" "$EDGE_URL/$MOD/@v/$v.zip")"
  if [[ "$code" == 206 && "$(header Content-Range "$WORK/rest.h")" == "bytes $at-$((size - 1))/$size" ]]; then
    pass "$name: the edge answers that resume 206 bytes $at-$((size - 1))/$size"
  else fail "$name: the edge answers the resume with 206" "$code [$(header Content-Range "$WORK/rest.h")]"; fi
  code="$(http_get "$PROXY_URL/$MOD/@v/$v.zip" "$WORK/again.zip")"
  if [[ "$code $(header X-Cache)" == "200 HIT" ]] && cmp -s "$WORK/again.zip" "$FIXTURE/$MOD/@v/$v.zip"; then
    pass "$name: the sidecar cached the resumed zip whole (200 HIT, the fixture's bytes)"
  else fail "$name: the sidecar cached the resumed zip whole" "$code $(header X-Cache), $(wc -c <"$WORK/again.zip") bytes"; fi
}

# ---- 1. warm edge: If-Range with the edge's ETag -------------------------------------------
V=v0.2.0
curl -s -o /dev/null --max-time 60 "$EDGE_URL/$MOD/@v/$V.zip"
edge_hit() { [[ "$(curl -s -o /dev/null -D - "$EDGE_URL/$MOD/@v/$V.zip" | awk -F': ' 'tolower($1) == "x-cache" { print $2 }' | tr -d '\r')" == HIT ]]; }
wait_until 30 edge_hit || fail "warm: the edge holds $MOD@$V" "no HIT"
start_sidecar warm
go_env warm
cd "$GO_HOME/work" || die "no work dir"
go_download_sums "warm edge: go mod download $MOD@$V through sidecar and edge, the zip cut at 300000 bytes: the fixture sum" "$MOD@$V"
check_resume "warm edge" "$V" yes
stop_modgate

# ---- 2. cold edge: Range alone, served from the edge's fill --------------------------------
V=v0.3.0
start_sidecar cold
go_env cold
cd "$GO_HOME/work" || die "no work dir"
go_download_sums "cold edge: go mod download $MOD@$V through sidecar and cold edge, the zip cut at 300000 bytes: the fixture sum" "$MOD@$V"
check_resume "cold edge" "$V" no

# ---- 3. @v/list revalidated sidecar -> edge with a 304 --------------------------------------
LIST_P=/github.com/fsnotify/fsnotify/@v/list
edge_3xx() {
  curl -s --max-time 5 "$EDGE_ADMIN/stats/prometheus" | awk '/^modgate_downstream_rq_total\{code_class="3xx"\}/ { print $2 }'
}
code="$(http_get "$PROXY_URL$LIST_P")"
assert_eq "list: first GET through the sidecar is a MISS" "200 MISS" "$code $(header X-Cache)"
before="$(edge_3xx)"
sleep 1.5
code="$(http_get "$PROXY_URL$LIST_P")"
if [[ "$code $(header X-Cache)" == "200 REVALIDATED" ]] && cmp -s "$WORK/last.body" "$FIXTURE$LIST_P"; then
  pass "list: expired in the sidecar, revalidated with the edge: 200 REVALIDATED, same body"
else fail "list: expired in the sidecar, revalidated with the edge" "$code $(header X-Cache)"; fi
after="$(edge_3xx)"
assert_eq "list: the edge answered the sidecar's revalidation 304 (one more 3xx)" 1 "$((${after%.*} - ${before%.*}))"

modgate_alive && pass "sidecar still running" || fail "sidecar still running" "it exited"
kill -0 "$EDGE_PID" 2>/dev/null && pass "edge still running" || fail "edge still running" "it exited"
finish
