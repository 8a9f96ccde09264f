#!/usr/bin/env bash
# The admin endpoint: /ready, /stats/prometheus counting cache results,
# POST-only endpoints refusing GET, /healthcheck/fail and /ok, /config_dump;
# /drain_listeners; and a graceful SIGTERM: a slow download in flight
# completes byte for byte, /ready says 503 and new connections are refused
# while draining, and modgate exits 0 within the drain timeout (5 s).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init

DRAIN_TIMEOUT=5 # limits.drain_timeout's default
RATE=8000000    # origin body bytes/s for the slow zip: ~4 s
ZIP_PATH=/example.com/fixtures/large/@v/v1.0.0.zip
ZIP_FILE="$FIXTURE$ZIP_PATH"
[[ -f "$ZIP_FILE" ]] || die "fixture lacks $ZIP_PATH"

start_origin
start_modgate --cache-dir "$WORK/cache1"

# metric NAME_WITH_LABELS: its value in /stats/prometheus (empty if absent).
metric() {
  curl -s --max-time 10 "$ADMIN_URL/stats/prometheus" |
    awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print "" }'
}
ready() { curl -s --max-time 5 -o "$WORK/ready.body" -w '%{http_code}' "$ADMIN_URL/ready"; }

# ---- /ready ---------------------------------------------------------------------
code="$(ready)"
assert_eq "GET /ready is 200 LIVE" "200 LIVE" "$code $(tr -d '\r\n' <"$WORK/ready.body")"

# ---- /stats/prometheus ----------------------------------------------------------
code="$(admin_get /stats/prometheus)"
ctype="$(header Content-Type)"
if [[ "$code" == 200 ]] && grep -q '^modgate_cache_requests_total{' "$WORK/admin.body"; then
  pass "GET /stats/prometheus is 200 with modgate_cache_requests_total ($ctype)"
else fail "GET /stats/prometheus has modgate_cache_requests_total" "status $code: $(head -c 300 "$WORK/admin.body")"; fi
grep -q '^# TYPE modgate_cache_requests_total counter' "$WORK/admin.body" &&
  pass "modgate_cache_requests_total is declared a counter" ||
  fail "modgate_cache_requests_total is declared a counter" "no '# TYPE modgate_cache_requests_total counter' line"
bad="$(grep -v '^#' "$WORK/admin.body" | grep -cvE '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.eE+-]+$|^$')"
assert_eq "every /stats/prometheus sample line is well-formed" 0 "$bad"

P=/github.com/google/uuid/@v/v1.3.0.info
# Labelled by cluster, host and status class: the sum of the 2xx series.
upstream_2xx() {
  curl -s --max-time 10 "$ADMIN_URL/stats/prometheus" |
    awk '/^modgate_upstream_rq_total\{/ && /code="2xx"/ { sum += $2 } END { print sum + 0 }'
}
# The version's .mod first, committed: a .info miss also fetches its .mod
# (the go command asks for it next), an upstream request of its own.
entries0="$(prom_value modgate_cache_entries)"
http_get "$PROXY_URL${P%.info}.mod" >/dev/null
wait_cached $((entries0 + 1))
up2xx0="$(upstream_2xx)"
hits0="$(metric 'modgate_cache_requests_total{result="hit"}')"
miss0="$(metric 'modgate_cache_requests_total{result="miss"}')"
entries0="$(prom_value modgate_cache_entries)"
c1="$(http_get "$PROXY_URL$P")"
wait_cached $((entries0 + 1)) # the commit trails the response
c2="$(http_get "$PROXY_URL$P")" x2="$(header X-Cache)"
c3="$(http_get "$PROXY_URL$P")" x3="$(header X-Cache)"
assert_eq "GET $P: MISS then HIT, HIT" "200 200 HIT 200 HIT" "$c1 $c2 $x2 $c3 $x3"
hits1="$(metric 'modgate_cache_requests_total{result="hit"}')"
miss1="$(metric 'modgate_cache_requests_total{result="miss"}')"
if [[ -n "$hits0" && -n "$hits1" ]] && ((hits1 - hits0 == 2)); then
  pass "result=\"hit\" went up by 2 after two hits ($hits0 -> $hits1)"
else fail "result=\"hit\" counts the two hits" "before [$hits0], after [$hits1]"; fi
if [[ -n "$miss0" && -n "$miss1" ]] && ((miss1 - miss0 == 1)); then
  pass "result=\"miss\" went up by 1 after one miss ($miss0 -> $miss1)"
else fail "result=\"miss\" counts the miss" "before [$miss0], after [$miss1]"; fi
assert_eq "modgate_upstream_rq_total{cluster,host,code=\"2xx\"} counts the one origin fetch" 1 \
  "$(($(upstream_2xx) - up2xx0))"

# ---- POST-only endpoints refuse GET ---------------------------------------------
for p in /healthcheck/fail /healthcheck/ok /drain_listeners /quitquitquit; do
  code="$(admin_get "$p")"
  allow="$(header Allow)"
  if [[ "$code" == 405 && "$allow" =~ POST ]]; then pass "GET $p is 405 (Allow: $allow)"
  else fail "GET $p is 405 with Allow: POST" "status $code, Allow [$allow]"; fi
done
code="$(ready)"
assert_eq "after those GETs modgate is still alive and ready (nothing was done)" "200 LIVE" "$code $(tr -d '\r\n' <"$WORK/ready.body")"
code="$(admin_get /no/such/admin/path)"
assert_eq "GET of an unknown admin path is 404" 404 "$code"

# ---- /healthcheck/fail and /ok --------------------------------------------------
code="$(admin_get /healthcheck/fail -X POST)"
assert_eq "POST /healthcheck/fail is 200" 200 "$code"
assert_eq "after /healthcheck/fail, /ready is 503" 503 "$(ready)"
code="$(http_get "$PROXY_URL$P")"
assert_eq "after /healthcheck/fail the proxy still serves (200)" 200 "$code"
code="$(admin_get /healthcheck/ok -X POST)"
assert_eq "POST /healthcheck/ok is 200" 200 "$code"
code="$(ready)"
assert_eq "after /healthcheck/ok, /ready is 200 LIVE" "200 LIVE" "$code $(tr -d '\r\n' <"$WORK/ready.body")"

# ---- /config_dump -----------------------------------------------------------------
code="$(admin_get /config_dump)"
out="$(python3 - "$WORK/admin.body" "127.0.0.1:$MODGATE_PORT" "127.0.0.1:$MODGATE_ADMIN_PORT" "$ORIGIN_URL" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("not JSON: %s" % e); sys.exit()
def walk(o):
    if isinstance(o, dict):
        for v in o.values(): yield from walk(v)
    elif isinstance(o, list):
        for v in o: yield from walk(v)
    else:
        yield o
b = d.get("bootstrap", d)
addrs = [l.get("address") for l in b.get("listeners", [])]
problems = []
if sys.argv[2] not in addrs: problems.append("listener address %s not in %s" % (sys.argv[2], addrs))
if (b.get("admin") or {}).get("address") != sys.argv[3]: problems.append("admin address %r" % b.get("admin"))
if sys.argv[4] not in list(walk(d)): problems.append("upstream %s absent" % sys.argv[4])
print("; ".join(problems) or "ok")
EOF
)"
assert_eq "GET /config_dump is 200 JSON with the listener, admin and upstream addresses" "200 ok" "$code $out"
assert_match "/config_dump is application/json" '^application/json' "$(header Content-Type)"

# ---- /drain_listeners ------------------------------------------------------------
code="$(admin_get /drain_listeners -X POST)"
assert_eq "POST /drain_listeners is 200" 200 "$code"
ready_is() { [[ "$(ready)" == "$1" ]]; }
wait_until 30 ready_is 503
assert_eq "after /drain_listeners, /ready is 503" 503 "$(ready)"
# Draining closes the listening sockets (ConnectionHandler::drain), so a new
# connection is refused at once rather than left in a backlog nobody reads.
# Each worker closes its socket when it runs the posted drain: probe until
# refused (30 s at most), each probe bounded by 5 s.
# refused: a connection to the proxy port is refused (curl exit 7, no status).
refused() {
  code="$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$1")"; rc=$?
  [[ "$rc $code" == "7 000" ]]
}
wait_until 30 refused "$PROXY_URL$P"
assert_eq "after /drain_listeners a new connection is refused (curl exit 7; waited ${WAITED_MS} ms)" "7 000" "$rc $code"
sleep 1
modgate_alive && pass "after /drain_listeners modgate keeps running (it does not exit)" ||
  fail "after /drain_listeners modgate keeps running" "it exited"
code="$(admin_get /quitquitquit -X POST)"
assert_eq "POST /quitquitquit is 200" 200 "$code"
rc=timeout
for ((i = 0; i < (DRAIN_TIMEOUT + 3) * 10; i++)); do
  if ! kill -0 "$MODGATE_PID" 2>/dev/null; then wait "$MODGATE_PID"; rc=$?; break; fi
  sleep 0.1
done
assert_eq "after /quitquitquit modgate exits with status 0" 0 "$rc"
_forget_pid "$MODGATE_PID"; MODGATE_PID=""

# ---- SIGTERM with a slow download in flight -----------------------------------------
stop_origin
start_origin --rate "$RATE"
start_modgate --cache-dir "$WORK/cache2"
want="$(sha256 "$ZIP_FILE")"
curl -sS --max-time 60 -o "$WORK/slow.zip" -w '%{http_code}' "$PROXY_URL$ZIP_PATH" >"$WORK/slow.code" 2>"$WORK/slow.err" &
curl_pid=$!
for ((i = 0; i < 300; i++)); do
  (($(stat -c %s "$WORK/slow.zip" 2>/dev/null || echo 0) >= 1048576)) && break
  sleep 0.1
done
got_before="$(stat -c %s "$WORK/slow.zip" 2>/dev/null || echo 0)"
((got_before >= 1048576)) || fail "SIGTERM: the slow download started" "only $got_before bytes after 30 s"
kill -TERM "$MODGATE_PID"
term_at=$(date +%s.%N)
wait_until 30 ready_is 503
code="$(ready)"
if [[ "$code" == 503 ]]; then pass "SIGTERM: /ready is 503 while draining ($(tr -d '\r\n' <"$WORK/ready.body"))"
else fail "SIGTERM: /ready is 503 while draining" "status [$code]"; fi
wait_until 30 refused "$PROXY_URL/github.com/google/uuid/@v/v1.3.0.mod"
assert_eq "SIGTERM: a new connection while draining is refused (curl exit 7; waited ${WAITED_MS} ms)" "7 000" "$rc $code"
# The drain deadline is modgate's own timer; how long the exit takes in
# wall time depends on the machine, so the wait is generous (10x) and the
# log line says which way the drain ended.
rc=timeout
for ((i = 0; i < DRAIN_TIMEOUT * 10 * 10; i++)); do
  if ! kill -0 "$MODGATE_PID" 2>/dev/null; then wait "$MODGATE_PID"; rc=$?; break; fi
  sleep 0.1
done
exit_after="$(python3 -c "import time; print('%.1f' % (time.time() - $term_at))")"
assert_eq "SIGTERM: modgate exits with status 0 (after ${exit_after}s)" 0 "$rc"
assert_match "SIGTERM: modgate exited because its requests finished, before the drain deadline" \
  'drained: no connection or fetch left; exiting' "$(cat "$MODGATE_STDERR")"
[[ "$rc" == timeout ]] || { _forget_pid "$MODGATE_PID"; MODGATE_PID=""; }
wait "$curl_pid"; crc=$?
code="$(cat "$WORK/slow.code")"
got="$(sha256 "$WORK/slow.zip")"
if [[ "$crc" == 0 && "$code" == 200 && "$got" == "$want" ]]; then
  pass "SIGTERM: the download in flight completed with the exact zip ($(stat -c %s "$WORK/slow.zip") bytes)"
else
  fail "SIGTERM: the download in flight completed with the exact zip" "curl exit $crc, status $code, $(stat -c %s "$WORK/slow.zip") bytes, sha256 $got; $(head -c 200 "$WORK/slow.err")"
  show_tail "$MODGATE_STDERR" 10 "modgate output"
fi
# ---- limits.drain_timeout: a shorter drain cuts a slow download ----------------------
cat >"$WORK/drain.yaml" <<'EOF2'
limits:
  drain_timeout: 1s
EOF2
start_modgate -c "$WORK/drain.yaml" --upstream "$ORIGIN_URL" --cache-dir "$WORK/cache3"
curl -sS --max-time 60 -o "$WORK/cut.zip" "$PROXY_URL$ZIP_PATH" 2>/dev/null &
curl_pid=$!
wait_until 30 bash -c "(( \$(stat -c %s '$WORK/cut.zip' 2>/dev/null || echo 0) >= 1048576 ))" ||
  fail "drain_timeout 1s: the slow download started" "not after 30 s"
kill -TERM "$MODGATE_PID"
rc=timeout
for ((i = 0; i < 300; i++)); do
  if ! kill -0 "$MODGATE_PID" 2>/dev/null; then wait "$MODGATE_PID"; rc=$?; break; fi
  sleep 0.1
done
assert_eq "drain_timeout 1s: modgate exits with status 0 though a download is in flight" 0 "$rc"
assert_match "drain_timeout 1s: it exited at its drain deadline, not because requests finished" \
  'drain timeout: [0-9]+ connections and fetches still busy; exiting' "$(cat "$MODGATE_STDERR")"
[[ "$rc" == timeout ]] || { _forget_pid "$MODGATE_PID"; MODGATE_PID=""; }
wait "$curl_pid"
(($(stat -c %s "$WORK/cut.zip") < $(stat -c %s "$ZIP_FILE"))) &&
  pass "drain_timeout 1s: the slow download was cut short" ||
  fail "drain_timeout 1s: the slow download was cut short" "it completed"
finish
