#!/usr/bin/env bash
# Circuit breakers and per-try timeouts.
#  1. circuit_breakers { max_requests: 2 } on a cluster whose origin takes
#     2 s per answer: 10 concurrent uncached requests -> those over the limit
#     fail fast with 503, a text/plain reason mentioning the overflow, and
#     modgate_upstream_rq_overflow_total counts exactly them; the rest are
#     answered by the origin, which sees only those.
#  2. retry_policy { per_try_timeout: 300ms, retry_on: [reset, 5xx],
#     num_retries: 1, retry_host_predicate_previous_hosts: true } over a slow
#     origin (3 s) and a fast one: every request succeeds via the fast one
#     well under 3 s, and modgate_upstream_rq_retry_total counts the retries.
#  3. circuit_breakers { max_connections: 3, max_pending_requests: 6 } with
#     two workers and a 4 s origin: 12 concurrent uncached requests -> the
#     origin never has more than 3 connections open (+1: a worker without
#     any connection may open one, as in Envoy), 6 requests wait for a
#     connection and are answered in turn, the rest fail fast with a
#     text/plain 503 naming max_pending_requests, counted by
#     modgate_upstream_rq_overflow_total; modgate_upstream_cx_overflow_total
#     counts the held-back connections; /clusters shows the breaker state.
#  4. max_connections_per_host: 1: 8 concurrent requests all answered over at
#     most one connection per worker.
#  5. max_retries: 1 counts a retry from its decision (its backoff included):
#     4 concurrent requests that all fail at once (a 2 s origin answering
#     500, a backoff of up to 1 s) -> exactly 1 retry, 3 refused
#     (modgate_upstream_rq_retry_overflow_total).
#  6. A retry stops counting once its answer's headers arrived: while a
#     retried 1.5 MB .zip is still streaming from a slow origin, /clusters shows
#     active_retries 0 (and the request active).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
integ_init

start_named_origin S --delay-ms 2000
start_named_origin SLOW --delay-ms 3000
start_named_origin FAST
# 4 s per answer: the 6 pending requests stay pending long enough to be seen
# in /clusters however slowly the 12 clients start on a busy machine.
start_named_origin CX --delay-ms 4000 --conn-log "$WORK/cx.conns"
start_named_origin PH --delay-ms 300 --conn-log "$WORK/ph.conns"
# 2 s per (failing) answer: a retry holds its max_retries slot from its
# decision to its answer, longer than the 4 clients take to start.
start_named_origin RB --delay-ms 2000 --fail-status 500
start_named_origin BAD --fail-status 500
start_named_origin SLOWZIP --rate 300000
cat >"$WORK/cb.yaml" <<EOF
concurrency: 2
clusters:
  - name: rb
    endpoints:
      - url: ${O_URL[RB]}
    retry_policy:
      retry_on: [5xx]
      num_retries: 1
      retry_back_off: { base_interval: 1s, max_interval: 1s }
    circuit_breakers:
      max_retries: 1
  - name: rb2
    endpoints:
      - url: ${O_URL[BAD]}
      - url: ${O_URL[SLOWZIP]}
    retry_policy:
      retry_on: [5xx]
      num_retries: 1
      retry_host_predicate_previous_hosts: true
    circuit_breakers:
      max_retries: 1
  - name: cx
    endpoints:
      - url: ${O_URL[CX]}
    circuit_breakers:
      max_connections: 3
      max_pending_requests: 6
  - name: perhost
    endpoints:
      - url: ${O_URL[PH]}
    max_connections_per_host: 1
  - name: cb
    endpoints:
      - url: ${O_URL[S]}
    circuit_breakers:
      max_requests: 2
  - name: pertry
    endpoints:
      - url: ${O_URL[SLOW]}
      - url: ${O_URL[FAST]}
    retry_policy:
      per_try_timeout: 300ms
      retry_on: [reset, 5xx]
      num_retries: 1
      retry_host_predicate_previous_hosts: true
routes:
  - name: cb
    match: { prefix: example.com/cb/ }
    cluster: cb
  - name: cx
    match: { prefix: example.com/cx/ }
    cluster: cx
  - name: perhost
    match: { prefix: example.com/ph/ }
    cluster: perhost
  - name: rb
    match: { prefix: example.com/rb/ }
    cluster: rb
  - name: zips
    match: { kinds: [ZIP] }
    cluster: rb2
  - name: rest
    cluster: pertry
EOF
start_modgate -c "$WORK/cb.yaml"

# ---- 1. max_requests: 2 --------------------------------------------------------------
assert_eq "/clusters shows cb::max_requests::2" 2 "$(clusters_get; awk -F'::' '$1 == "cb" && $2 == "max_requests" { print $3 }' "$WORK/clusters.txt")"
ov0="$(prom_value modgate_upstream_rq_overflow_total cluster=cb)"
pids=()
for i in $(seq 1 10); do
  curl -sS --max-time 30 -o "$WORK/cb.$i.body" -D "$WORK/cb.$i.hdr" -w '%{http_code} %{time_total}\n' \
    "$PROXY_URL/example.com/cb/m$i/@v/list" >"$WORK/cb.$i.res" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
n503=0 nok=0 other="" badbody="" slowest503="" fastest404=""
for i in $(seq 1 10); do
  read -r code secs <"$WORK/cb.$i.res"
  case "$code" in
    503)
      n503=$((n503 + 1))
      ct="$(header Content-Type "$WORK/cb.$i.hdr")"
      body="$(tr -d '\r' <"$WORK/cb.$i.body" | head -c 200 | tr '\n' ' ')"
      [[ "$ct" == text/plain* && "$body" =~ [Oo]verflow ]] || badbody+=" #$i: [$ct] [$body];"
      slowest503="$(awk -v a="${slowest503:-0}" -v b="$secs" 'BEGIN { print (b > a ? b : a) }')"
      ;;
    404)
      nok=$((nok + 1))
      fastest404="$(awk -v a="${fastest404:-1e9}" -v b="$secs" 'BEGIN { print (b < a ? b : a) }')"
      ;;
    *) other+=" #$i: $code $secs;" ;;
  esac
done
log "10 concurrent requests through max_requests 2: $n503 x 503, $nok x 404 (origin answer)${other:+, other:$other}"
if ((n503 >= 1 && n503 <= 8 && nok >= 2)) && [[ -z "$other" ]]; then
  pass "10 concurrent requests, max_requests 2: $n503 got 503, $nok were answered by the origin"
else fail "10 concurrent requests, max_requests 2: some 503, at least 2 answered" "$n503 x 503, $nok x 404, other:$other"; fi
if [[ -z "$badbody" ]]; then pass "every 503 is text/plain and names the overflow (e.g. $(tr -d '\r' <"$(grep -l '^503' "$WORK"/cb.*.res | head -1 | sed 's/res$/body/')" 2>/dev/null | head -c 120))"
else fail "every 503 is text/plain and names the overflow" "$badbody"; fi
# Fail fast, as an ordering: every 503 came back before the first answer
# that went through to the origin (which takes 2 s), not after a wait.
if awk -v a="${slowest503:-0}" -v b="${fastest404:-0}" 'BEGIN { exit !(a < b) }'; then
  pass "the 503s fail fast: the slowest took ${slowest503}s, before the first origin answer (${fastest404}s; the origin takes 2 s)"
else fail "the 503s fail fast, before any origin answer" "slowest 503 ${slowest503:-?}s, fastest origin answer ${fastest404:-?}s"; fi
ov1="$(prom_value modgate_upstream_rq_overflow_total cluster=cb)"
assert_eq "modgate_upstream_rq_overflow_total{cluster=cb} counts the 503s" "$n503" "$((ov1 - ov0))"
assert_eq "the origin saw only the requests that were let through" "$nok" "$(count_paths "${O_LOG[S]}" '^/example.com/cb/')"
assert_eq "cb::active_requests back to 0" 0 "$(clusters_get; awk -F'::' '$1 == "cb" && $2 == "active_requests" { print $3 }' "$WORK/clusters.txt")"

# ---- 2. per_try_timeout 300ms, slow + fast origin ---------------------------------------
rt0="$(prom_value modgate_upstream_rq_retry_total cluster=pertry)"
slow0="$(host_field pertry "${O_HOST[SLOW]}" rq_total)"
mapfile -t picks < <(awk '!/^#/ && NF >= 2 && $1 !~ /[A-Z]/ && $1 !~ /large/ { print $1 "@" $2 }' "$FIXTURE/manifest.txt" | head -6)
slowbad=""
n200=0
for mv in "${picks[@]}"; do
  p="/${mv%@*}/@v/${mv#*@}.info"
  start="$(date +%s%N)"
  code="$(http_get "$PROXY_URL$p")"
  ms=$((($(date +%s%N) - start) / 1000000))
  if [[ "$code" == 200 ]] && cmp -s "$WORK/last.body" "$FIXTURE$p"; then n200=$((n200 + 1)); else slowbad+=" $p: $code $(head -c 120 "$WORK/last.body");"; fi
  # The time is information: that the 3 s answers were cut by the per-try
  # timeout shows in the counts below (code="none" per slow attempt).
  log "GET $p: $code in ${ms} ms"
done
if [[ -z "$slowbad" ]]; then pass "per_try_timeout 300ms: ${#picks[@]} requests all 200 with the fixture body"
else fail "per_try_timeout 300ms: requests succeed via the fast origin" "$slowbad"; fi
# The slow origin logs nothing for the abandoned attempts (its late answer
# meets a closed socket), so modgate's own per-host count is used for it.
nslow=$(($(host_field pertry "${O_HOST[SLOW]}" rq_total) - slow0))
nfast="$(count_paths "${O_LOG[FAST]}" '\.info$')"
rt1="$(prom_value modgate_upstream_rq_retry_total cluster=pertry)"
if ((rt1 - rt0 >= 1)); then pass "modgate_upstream_rq_retry_total{cluster=pertry} increased by $((rt1 - rt0)) (the slow origin was tried $nslow times)"
else fail "modgate_upstream_rq_retry_total{cluster=pertry} increased" "$rt0 -> $rt1; slow origin tried $nslow times"; fi
assert_eq "the fast origin served every request" "${#picks[@]}" "$nfast"
assert_eq "one retry per timed-out attempt on the slow origin (its /clusters rq_total)" "$nslow" "$((rt1 - rt0))"
assert_eq "the slow origin's attempts are counted as no response (code=\"none\")" "$nslow" "$(prom_value modgate_upstream_rq_total cluster=pertry host="${O_HOST[SLOW]}" code=none)"

# ---- 3. max_connections: 3, max_pending_requests: 6 ---------------------------------------
cluster_value() { clusters_get; awk -F'::' -v c="$1" -v f="$2" '$1 == c && $2 == f && NF == 3 { print $3 }' "$WORK/clusters.txt"; }
assert_eq "/clusters shows cx::max_connections::3" 3 "$(cluster_value cx max_connections)"
assert_eq "/clusters shows cx::max_pending_requests::6" 6 "$(cluster_value cx max_pending_requests)"
ov0="$(prom_value modgate_upstream_rq_overflow_total cluster=cx)"
cxo0="$(prom_value modgate_upstream_cx_overflow_total cluster=cx)"
pids=()
for i in $(seq 1 12); do
  curl -sS --max-time 60 -o "$WORK/cx.$i.body" -D "$WORK/cx.$i.hdr" -w '%{http_code} %{time_total}\n' \
    "$PROXY_URL/example.com/cx/m$i/@v/list" >"$WORK/cx.$i.res" 2>&1 &
  pids+=($!)
done
# While they run: the breaker state as /clusters reports it (6 wait until
# the first answers, 4 s after the requests arrived).
pending_at_least() { pending_mid="$(cluster_value cx rq_pending_active)"; [[ "$pending_mid" =~ ^[0-9]+$ ]] && ((pending_mid >= $1)); }
wait_until 30 pending_at_least 5
cx_mid="$(cluster_value cx cx_active)"
for p in "${pids[@]}"; do wait "$p"; done
n503=0 nok=0 other="" badbody="" slowest503="" fastest404="" maxok=0
for i in $(seq 1 12); do
  read -r code secs <"$WORK/cx.$i.res"
  case "$code" in
    503)
      n503=$((n503 + 1))
      ct="$(header Content-Type "$WORK/cx.$i.hdr")"
      body="$(tr -d '\r' <"$WORK/cx.$i.body" | head -c 300 | tr '\n' ' ')"
      [[ "$ct" == text/plain* && "$body" =~ overflow && "$body" =~ max_pending_requests ]] || badbody+=" #$i: [$ct] [$body];"
      slowest503="$(awk -v a="${slowest503:-0}" -v b="$secs" 'BEGIN { print (b > a ? b : a) }')"
      ;;
    404)
      nok=$((nok + 1))
      maxok="$(awk -v a="$maxok" -v b="$secs" 'BEGIN { print (b > a ? b : a) }')"
      fastest404="$(awk -v a="${fastest404:-1e9}" -v b="$secs" 'BEGIN { print (b < a ? b : a) }')"
      ;;
    *) other+=" #$i: $code $secs;" ;;
  esac
done
maxconn="$(max_open_connections "$WORK/cx.conns")"
log "12 concurrent requests, max_connections 3 / max_pending 6: $n503 x 503, $nok answered (slowest ${maxok}s), origin connections at once: $maxconn, mid-run pending=$pending_mid cx_active=$cx_mid${other:+, other:$other}"
if ((maxconn >= 1 && maxconn <= 4)); then pass "the origin had at most 3 (+1 for the second worker) connections open at once: $maxconn"
else fail "the origin had at most 3 (+1) connections open at once" "$maxconn (without the breaker: 12)"; fi
if ((n503 >= 2 && n503 <= 3 && nok + n503 == 12)) && [[ -z "$other" ]]; then
  pass "12 concurrent requests: $nok answered (3-4 at once, 6 waiting for a connection), $n503 over max_pending_requests got 503"
else fail "12 concurrent requests: 6 wait, 2-3 overflow" "$n503 x 503, $nok answered, other:$other"; fi
if [[ -z "$badbody" ]]; then pass "every 503 is text/plain and names the overflow and max_pending_requests (e.g. $(tr -d '\r' <"$(grep -l '^503' "$WORK"/cx.*.res | head -1 | sed 's/res$/body/')" 2>/dev/null | head -c 160))"
else fail "every 503 is text/plain and names max_pending_requests" "$badbody"; fi
if awk -v a="${slowest503:-0}" -v b="${fastest404:-0}" 'BEGIN { exit !(a < b) }'; then
  pass "the pending overflow 503s fail fast: the slowest took ${slowest503}s, before the first origin answer (${fastest404}s; the origin takes 4 s)"
else fail "the pending overflow 503s fail fast, before any origin answer" "slowest 503 ${slowest503:-?}s, fastest origin answer ${fastest404:-?}s"; fi
# The pending requests were served in turn over the same connections: the
# last of them waited for two answers before its own (about 3 x 4 s).
if awk -v s="$maxok" 'BEGIN { exit !(s >= 6.5) }'; then pass "pending requests were answered in turn over the limited connections (slowest ${maxok}s)"
else fail "pending requests were answered in turn over the limited connections" "slowest answer after ${maxok}s: requests were not queued"; fi
if [[ "$pending_mid" =~ ^[0-9]+$ ]] && ((pending_mid >= 5 && pending_mid <= 6)); then pass "/clusters cx::rq_pending_active mid-run: $pending_mid (cx_active $cx_mid)"
else fail "/clusters cx::rq_pending_active mid-run is 5..6" "rq_pending_active=$pending_mid cx_active=$cx_mid"; fi
ov1="$(prom_value modgate_upstream_rq_overflow_total cluster=cx)"
cxo1="$(prom_value modgate_upstream_cx_overflow_total cluster=cx)"
assert_eq "modgate_upstream_rq_overflow_total{cluster=cx} counts the 503s" "$n503" "$((ov1 - ov0))"
if ((cxo1 - cxo0 >= 6)); then pass "modgate_upstream_cx_overflow_total{cluster=cx} counts the held-back connections (+$((cxo1 - cxo0)))"
else fail "modgate_upstream_cx_overflow_total{cluster=cx} counts the held-back connections" "$cxo0 -> $cxo1"; fi
assert_eq "the origin saw only the requests that were let through" "$nok" "$(count_paths "${O_LOG[CX]}" '^/example.com/cx/')"
assert_eq "cx::rq_pending_active back to 0" 0 "$(cluster_value cx rq_pending_active)"
cx_end="$(cluster_value cx cx_active)"
if ((cx_end >= 1 && cx_end <= 4)); then pass "cx::cx_active counts the pooled connections: $cx_end"
else fail "cx::cx_active counts the pooled connections (1..4)" "$cx_end"; fi

# ---- 4. max_connections_per_host: 1 --------------------------------------------------------
pids=()
for i in $(seq 1 8); do
  curl -sS --max-time 60 -o /dev/null -w '%{http_code}\n' "$PROXY_URL/example.com/ph/m$i/@v/list" >"$WORK/ph.$i.res" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
codes="$(cat "$WORK"/ph.*.res | sort | uniq -c | tr -s ' \n' ' ')"
assert_eq "8 concurrent requests through max_connections_per_host 1 are all answered (they queue)" "8 404" "$(echo $codes)"
maxconn="$(max_open_connections "$WORK/ph.conns")"
if ((maxconn >= 1 && maxconn <= 2)); then pass "the endpoint had at most one connection per worker open at once: $maxconn"
else fail "the endpoint had at most one connection per worker (2) open at once" "$maxconn (without the limit: 8)"; fi
assert_eq "/clusters perhost host cx_active" 1 "$(($(host_field perhost "${O_HOST[PH]}" cx_active) >= 1 && $(host_field perhost "${O_HOST[PH]}" cx_active) <= 2))"

# ---- 5. max_retries: 1 counts retries waiting in their backoff -------------------------------
rt0="$(prom_value modgate_upstream_rq_retry_total cluster=rb)"
rto0="$(prom_value modgate_upstream_rq_retry_overflow_total cluster=rb)"
pids=()
for i in 1 2 3 4; do
  curl -sS --max-time 30 -o /dev/null -w '%{http_code}\n' "$PROXY_URL/example.com/rb/m$i/@v/list" >"$WORK/rb.$i.res" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
rt1="$(prom_value modgate_upstream_rq_retry_total cluster=rb)"
rto1="$(prom_value modgate_upstream_rq_retry_overflow_total cluster=rb)"
assert_eq "4 requests failing at once, max_retries 1: all answered 502" "4 502" "$(echo $(cat "$WORK"/rb.*.res | sort | uniq -c))"
assert_eq "4 failures at once, max_retries 1 (backoff up to 1 s): exactly 1 retry (a retry in its backoff counts)" 1 "$((rt1 - rt0))"
assert_eq "the other 3 retries were refused (modgate_upstream_rq_retry_overflow_total)" 3 "$((rto1 - rto0))"
assert_eq "the origin saw 4 requests and 1 retry" 5 "$(count_paths "${O_LOG[RB]}" '^/example.com/rb/')"
assert_eq "rb::active_retries back to 0" 0 "$(cluster_value rb active_retries)"

# ---- 6. a retry stops counting at its answer's headers --------------------------------------
# Zips go to rb2 (BAD answers 500, SLOWZIP streams at 300 kB/s). Round robin
# sends some zip to BAD first; its retry goes to SLOWZIP (previous hosts).
# Zips over 256 KiB: modgate streams a fill to its clients in batches of
# that size, so bytes reach the client while the upstream still sends. Two
# of the three land on the same worker, whose round robin alternates.
mapfile -t zips < <(cd "$FIXTURE" && find golang.org/x/sys -name '*.zip' -size +1000k | sort)
retried="" streaming_retries="" streaming_active=""
for z in "${zips[@]}"; do
  r0="$(prom_value modgate_upstream_rq_retry_total cluster=rb2)"
  rm -f "$WORK/zip.body"
  curl -sS --max-time 60 -o "$WORK/zip.body" "$PROXY_URL/$z" 2>/dev/null &
  zpid=$!
  # Body bytes at the client: SLOWZIP's answer (BAD's 500 has none to send).
  if wait_until 30 test -s "$WORK/zip.body"; then
    clusters_get
    streaming_retries="$(awk -F'::' '$1 == "rb2" && $2 == "active_retries" { print $3 }' "$WORK/clusters.txt")"
    streaming_active="$(awk -F'::' '$1 == "rb2" && $2 == "active_requests" { print $3 }' "$WORK/clusters.txt")"
  fi
  wait "$zpid"
  if (($(prom_value modgate_upstream_rq_retry_total cluster=rb2) > r0)); then retried="$z"; break; fi
done
if [[ -z "$retried" ]]; then
  fail "a retried .zip streaming from the slow origin" "none of ${#zips[@]} zips was sent to BAD first"
else
  log "$retried: BAD answered 500, the retry streams from SLOWZIP; while streaming: active_retries=$streaming_retries active_requests=$streaming_active"
  assert_eq "while the retried $retried streams, /clusters rb2::active_requests" 1 "$streaming_active"
  assert_eq "while the retried $retried streams, its retry no longer counts (rb2::active_retries)" 0 "$streaming_retries"
  if cmp -s "$WORK/zip.body" "$FIXTURE/$retried"; then pass "the retried $retried arrived whole"
  else fail "the retried $retried arrived whole" "$(wc -c <"$WORK/zip.body") bytes"; fi
fi

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
