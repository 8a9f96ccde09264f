#!/usr/bin/env bash
# HTTP/2 over cleartext: prior knowledge (nghttp, h2load, curl) and the
# HTTP/1.1 Upgrade: h2c path (curl --http2); bodies equal the fixture; a
# 2000-request h2load run on a cached .info has no errors.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init
for t in nghttp h2load; do
  command -v "$t" >/dev/null || die "$t is missing (apt-get install nghttp2-client)"
done

start_origin
start_modgate

PATHS=(/github.com/google/uuid/@v/v1.3.0.info
  /github.com/%21burnt%21sushi/toml/@v/v1.2.0.mod
  /golang.org/x/sys/@v/v0.3.0.zip
  /example.com/fixtures/large/@v/v1.0.0.zip)

fixture_file() { printf '%s' "$FIXTURE${1//%21/!}"; }

# nghttp with prior knowledge (the default for http:// URIs without -u).
for p in "${PATHS[@]}"; do
  name="nghttp (h2c prior knowledge) GET $p"
  if ! timeout 120 nghttp -nv "$PROXY_URL$p" >"$WORK/nghttp.v" 2>&1; then
    fail "$name" "nghttp failed"; show_tail "$WORK/nghttp.v" 15 "nghttp -nv"; continue
  fi
  status="$(awk '/recv \(stream_id=[0-9]+\) :status:/ { print $NF; exit }' "$WORK/nghttp.v")"
  if [[ "$status" != 200 ]]; then
    fail "$name" "status [${status:-none}], no HTTP/2 response"; show_tail "$WORK/nghttp.v" 15 "nghttp -nv"; continue
  fi
  timeout 120 nghttp "$PROXY_URL$p" >"$WORK/nghttp.body" 2>"$WORK/nghttp.err"
  if cmp -s "$WORK/nghttp.body" "$(fixture_file "$p")"; then pass "$name: 200, body equals the fixture"
  else fail "$name" "body ($(stat -c %s "$WORK/nghttp.body") bytes) differs from the fixture"; fi
done

# A missing module over h2 is a 404/410 too.
timeout 60 nghttp -nv "$PROXY_URL/github.com/does-not/exist/@v/list" >"$WORK/nghttp.v" 2>&1
status="$(awk '/recv \(stream_id=[0-9]+\) :status:/ { print $NF; exit }' "$WORK/nghttp.v")"
assert_match "nghttp GET of an unknown module is 404/410 over h2 (was ${status:-none})" '^(404|410)$' "${status:-none}"

# Load: many multiplexed streams on a few connections, all answered.
target="$PROXY_URL/github.com/google/uuid/@v/v1.3.0.info"
curl -s -o /dev/null --max-time 30 "$target" # make sure it is cached
h2load_check() { # CASE EXPECTED_N h2load args...
  local name="$1" n="$2"; shift 2
  if ! timeout 180 h2load "$@" >"$WORK/h2load.out" 2>&1; then
    fail "$name" "h2load failed"; show_tail "$WORK/h2load.out" 15 "h2load"; return
  fi
  local req codes
  req="$(grep '^requests:' "$WORK/h2load.out")"
  codes="$(grep '^status codes:' "$WORK/h2load.out")"
  if [[ "$req" == *"$n succeeded, 0 failed, 0 errored, 0 timeout"* && "$codes" == "status codes: $n 2xx"* ]]; then
    pass "$name: $n succeeded, 0 errors"
  else
    fail "$name" "${req:-no result}; ${codes:-no status codes}"; show_tail "$WORK/h2load.out" 8 "h2load"
  fi
}
h2load_check "h2load -n 2000 -c 4 -m 32 (h2c) on a cached .info" 2000 -n 2000 -c 4 -m 32 "$target"
h2load_check "h2load --h1 -n 1000 -c 4 (HTTP/1.1 keep-alive) on a cached .info" 1000 --h1 -n 1000 -c 4 "$target"

# curl: prior knowledge, and the Upgrade: h2c dance.
if curl -V | grep -qw HTTP2; then
  p=/github.com/google/uuid/@v/v1.3.0.mod
  out="$(curl -sS --max-time 60 --http2-prior-knowledge -o "$WORK/curl.body" -w '%{http_code} %{http_version}' "$PROXY_URL$p" 2>&1)"
  if [[ "$out" == "200 2" ]] && cmp -s "$WORK/curl.body" "$(fixture_file "$p")"; then
    pass "curl --http2-prior-knowledge: 200 over HTTP/2, body equals the fixture"
  else fail "curl --http2-prior-knowledge" "status and version [$out]"; fi
  p=/github.com/%21burnt%21sushi/toml/@v/v1.2.0.zip
  out="$(curl -sS --max-time 60 --http2 -o "$WORK/curl.body" -w '%{http_code} %{http_version}' "$PROXY_URL$p" 2>&1)"
  if [[ "$out" == "200 2" ]] && cmp -s "$WORK/curl.body" "$(fixture_file "$p")"; then
    pass "curl --http2 (Upgrade: h2c): upgraded to HTTP/2, 200, body equals the fixture"
  else fail "curl --http2 (Upgrade: h2c)" "status and version [$out] (want \"200 2\")"; fi
  out="$(curl -sS --max-time 60 --http1.1 -o "$WORK/curl.body" -w '%{http_code} %{http_version}' "$PROXY_URL$p" 2>&1)"
  if [[ "$out" == "200 1.1" ]] && cmp -s "$WORK/curl.body" "$(fixture_file "$p")"; then
    pass "curl --http1.1: 200, body equals the fixture"
  else fail "curl --http1.1" "status and version [$out]"; fi
else
  skip "curl --http2 (Upgrade: h2c)" "this curl has no HTTP2 feature"
fi

code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$ADMIN_URL/ready")"
assert_eq "admin /ready still 200" 200 "$code"
modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
# Connections and streams by protocol: 1 HTTP/1.1 request, 1 nghttp (h2c by
# prior knowledge), 1 Upgrade: h2c (an http1 connection, then h2c with its
# stream 1), h2load 2 connections x 20 streams; all closed afterwards.
by_protocol() { # cx_total rq_total for http1, then h2c
  echo "$(prom_value modgate_downstream_cx_protocol_total protocol=http1) $(prom_value modgate_downstream_rq_protocol_total protocol=http1)" \
    "$(prom_value modgate_downstream_cx_protocol_total protocol=h2c) $(prom_value modgate_downstream_rq_protocol_total protocol=h2c)"
}
read -r h1_cx0 h1_rq0 h2_cx0 h2_rq0 <<<"$(by_protocol)"
p=/github.com/google/uuid/@v/v1.3.0.info
curl -s -o /dev/null --max-time 30 --http1.1 "$PROXY_URL$p"
timeout 60 nghttp "$PROXY_URL$p" >/dev/null 2>&1
curl -s -o /dev/null --max-time 30 --http2 "$PROXY_URL$p"
timeout 120 h2load -n 20 -c 2 -m 4 "$PROXY_URL$p" >/dev/null 2>&1
read -r h1_cx1 h1_rq1 h2_cx1 h2_rq1 <<<"$(by_protocol)"
assert_eq "modgate_downstream_{cx,rq}_protocol_total: http1 2 connections 1 stream, h2c 4 and 22" \
  "2 1 4 22" "$((h1_cx1 - h1_cx0)) $((h1_rq1 - h1_rq0)) $((h2_cx1 - h2_cx0)) $((h2_rq1 - h2_rq0))"
all_closed() {
  (($(prom_value modgate_downstream_cx_protocol_active) == 0 && $(prom_value modgate_downstream_rq_protocol_active) == 0))
}
wait_until 60 all_closed
assert_eq "modgate_downstream_{cx,rq}_protocol_active return to 0 once the clients are gone" "0 0" \
  "$(prom_value modgate_downstream_cx_protocol_active) $(prom_value modgate_downstream_rq_protocol_active)"

finish
