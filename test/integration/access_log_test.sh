#!/usr/bin/env bash
# The access log: one JSON line per request on the listener that has one,
# with the request id echoed (the client's, or a generated one), for a miss,
# a hit, a coalesced waiter (two clients, one fetch), an error, and a
# request answered through a retry; "errors and misses only" on a second
# listener; reopened on SIGUSR1 while h2load runs, with no line lost or
# torn between the rotated file and the new one.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/reload_lib.sh"
integ_init

# A slow origin, so that two clients asking for the same file at once share
# one fetch.
start_named_origin A --delay-ms 1500
pick_ports 2
LOG="$WORK/logs/access.log"
LOG2="$WORK/logs/edge.log"
mkdir -p "$WORK/logs"
cat >"$WORK/modgate.yaml" <<EOF
listeners:
  - name: main
    address: 127.0.0.1:${PORTS[0]}
    access_log:
      path: $LOG
  - name: edge
    address: 127.0.0.1:${PORTS[1]}
    access_log:
      path: $LOG2
      errors_and_misses_only: true
admin:
  address: 127.0.0.1:$ADMIN_PORT
concurrency: 2
cache:
  dir: $WORK/cache
clusters:
  - name: origin
    endpoints:
      - url: "${O_URL[A]}"
routes:
  - name: all
    cluster: origin
EOF
start_modgate_file "$WORK/modgate.yaml"
EDGE_URL="http://127.0.0.1:${PORTS[1]}"

# line_for ID [FILE...]: the access log line with request_id ID, waiting
# up to 10 s for the writer.
line_for() {
  local id="$1" i; shift
  local files=("$@"); ((${#files[@]})) || files=("$LOG")
  for ((i = 0; i < 100; i++)); do
    if grep -h "\"request_id\":\"$id\"" "${files[@]}" 2>/dev/null | head -1 | grep .; then return 0; fi
    sleep 0.1
  done
  return 1
}
# field JSON KEY: one field of a log line.
field() { json_field "$1" "$2"; }

INFO=/github.com/google/uuid/@v/v1.3.0.info
# Another version's .mod: a .info miss fetches its own version's .mod too, so
# v1.3.0.mod is cached by the time the coalescing case below runs.
MOD=/github.com/google/uuid/@v/v1.2.0.mod

# ---- a miss, with the client's request id ----------------------------------------
code="$(http_get "$PROXY_URL$INFO" "$WORK/b" -H 'x-request-id: rid-miss-1')"
assert_eq "a miss is 200 and echoes the client's x-request-id" "200 rid-miss-1" "$code $(header x-request-id)"
line="$(line_for rid-miss-1)" || fail "the miss is logged" "no line with request_id rid-miss-1 in $LOG"
got="$(python3 - "$line" "${O_HOST[A]}" <<'EOF'
import json, sys
o = json.loads(sys.argv[1])
want = {"listener": "main", "protocol": "HTTP/1.1", "method": "GET",
        "path": "/github.com/google/uuid/@v/v1.3.0.info", "module": "github.com/google/uuid",
        "version": "v1.3.0", "kind": "info", "status": 200, "cache": "miss", "route": "all",
        "cluster": "origin", "upstream_host": sys.argv[2], "upstream_status": 200, "retries": 0,
        "client": "127.0.0.1"}
bad = []
for k, v in want.items():
    got = o.get(k)
    if k == "client":
        got = str(got).rsplit(":", 1)[0]
    if got != v: bad.append("%s=%r (want %r)" % (k, o.get(k), v))
if not (o.get("bytes_sent", 0) > 0): bad.append("bytes_sent=%r" % o.get("bytes_sent"))
if not (o.get("duration_ms", 0) >= 1000): bad.append("duration_ms=%r (origin delays 1.5 s)" % o.get("duration_ms"))
if not (0 < o.get("ttfb_ms", 0) <= o.get("duration_ms", 0)): bad.append("ttfb_ms=%r" % o.get("ttfb_ms"))
if not (0 < o.get("upstream_ttfb_ms", 0)): bad.append("upstream_ttfb_ms=%r" % o.get("upstream_ttfb_ms"))
if not o.get("time", "").endswith("Z"): bad.append("time=%r" % o.get("time"))
print("; ".join(bad) or "ok")
EOF
)"
assert_eq "the miss's line has every field right" ok "$got"

# ---- a hit, with a generated request id ------------------------------------------
code="$(http_get "$PROXY_URL$INFO" "$WORK/b")"
rid="$(header x-request-id)"
assert_match "a hit without x-request-id gets a generated one" '^[0-9a-f]{32}$' "$rid"
line="$(line_for "$rid")"
assert_eq "the hit is logged under that id: cache hit, no upstream" "hit  0 200" \
  "$(field "$line" cache) $(field "$line" cluster) $(field "$line" upstream_status) $(field "$line" status)"

# ---- two clients at once: one fetch, one coalesced waiter -------------------------
curl -s -o /dev/null -H 'x-request-id: rid-co-a' "$PROXY_URL$MOD" &
pa=$!
sleep 0.3
curl -s -o /dev/null -H 'x-request-id: rid-co-b' "$PROXY_URL$MOD" &
pb=$!
wait "$pa" "$pb"
la="$(line_for rid-co-a)"
lb="$(line_for rid-co-b)"
assert_eq "the first is the miss that fetched, the second a coalesced waiter without its own upstream" \
  "miss origin 200 coalesced  200" \
  "$(field "$la" cache) $(field "$la" cluster) $(field "$la" status) $(field "$lb" cache) $(field "$lb" cluster) $(field "$lb" status)"
assert_eq "the origin was asked once for the .mod" 1 "$(origin_count "^$MOD\$" "${O_LOG[A]}")"

# ---- an error --------------------------------------------------------------------
code="$(http_get "$PROXY_URL/github.com/google/uuid/@v/v1.3.0.exe" "$WORK/b" -H 'x-request-id: rid-err-1')"
line="$(line_for rid-err-1)"
assert_eq "a bad path is logged with its 4xx status" "$code 4" "$(field "$line" status) ${code:0:1}"

# ---- errors and misses only ------------------------------------------------------
http_get "$EDGE_URL$INFO" "$WORK/b" -H 'x-request-id: rid-edge-hit' >/dev/null
http_get "$EDGE_URL/github.com/google/uuid/@v/v1.3.0.zip" "$WORK/b" -H 'x-request-id: rid-edge-miss' >/dev/null
http_get "$EDGE_URL/nope/@v/v1.0.0.bad" "$WORK/b" -H 'x-request-id: rid-edge-err' >/dev/null
line_for rid-edge-miss "$LOG2" >/dev/null && line_for rid-edge-err "$LOG2" >/dev/null &&
  pass "edge (errors_and_misses_only) logs the miss and the error" ||
  fail "edge logs the miss and the error" "$(cat "$LOG2")"
assert_eq "edge does not log the hit, and main logs nothing of edge's" "0 0" \
  "$(grep -c rid-edge-hit "$LOG2") $(grep -c rid-edge "$LOG")"

# ---- SIGUSR1 under load: rotate, nothing lost or torn -----------------------------
before="$(wc -l <"$LOG")"
# Long enough (about 2 s here, more on a busy machine) for the rotation to
# fall in the middle of it.
h2load -n 40000 -c 2 -m 4 "$PROXY_URL$INFO" >"$WORK/h2load.out" 2>&1 &
hp=$!
sleep 0.5
mv "$LOG" "$LOG.1"
kill -USR1 "$MODGATE_PID"
wait "$hp"
N="$(awk '/^requests:/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^succeeded/) print $i }' "$WORK/h2load.out")"
failed="$(awk '/^requests:/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^failed/) print $i }' "$WORK/h2load.out")"
if [[ "$N" == 40000 && "$failed" == 0 ]]; then pass "h2load: $N requests, none failed"
else fail "h2load: every request succeeds" "$(grep -E '^requests:|status codes' "$WORK/h2load.out")"; N="${N:-0}"; fi
total=0
for ((i = 0; i < 100; i++)); do
  total=$(($(cat "$LOG.1" "$LOG" 2>/dev/null | wc -l)))
  ((total >= before + N)) && break
  sleep 0.1
done
assert_eq "the rotated file and the new one hold every line ($before before + $N)" "$((before + N))" "$total"
new_lines="$(wc -l <"$LOG" 2>/dev/null || echo 0)"
if ((new_lines > 0)); then pass "SIGUSR1 reopened the path: $new_lines lines in the new file"
else fail "SIGUSR1 reopened the path" "the new $LOG is empty or missing"; fi
torn="$(cat "$LOG.1" "$LOG" | python3 -c '
import json, sys
bad = 0
for line in sys.stdin:
    try:
        o = json.loads(line)
        assert o["request_id"] and isinstance(o["status"], int)
    except Exception:
        bad += 1
print(bad)')"
assert_eq "every line of both files is a whole JSON object" 0 "$torn"
dropped="$(curl -s "$ADMIN_URL/stats/prometheus" | awk '$1 == "modgate_access_log_dropped_lines_total" { print $2 }')"
assert_eq "no line was dropped (modgate_access_log_dropped_lines_total)" 0 "$dropped"

finish
