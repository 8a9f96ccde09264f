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
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
integ_init

start_named_origin S --delay-ms 2000
start_named_origin SLOW --delay-ms 3000
start_named_origin FAST
cat >"$WORK/cb.yaml" <<EOF
clusters:
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
n503=0 nok=0 other="" badbody="" slow503=""
for i in $(seq 1 10); do
  read -r code secs <"$WORK/cb.$i.res"
  case "$code" in
    503)
      n503=$((n503 + 1))
      ct="$(header Content-Type "$WORK/cb.$i.hdr")"
      body="$(tr -d '\r' <"$WORK/cb.$i.body" | head -c 200 | tr '\n' ' ')"
      [[ "$ct" == text/plain* && "$body" =~ [Oo]verflow ]] || badbody+=" #$i: [$ct] [$body];"
      awk -v s="$secs" 'BEGIN { exit !(s < 1.0) }' || slow503+=" #$i ${secs}s"
      ;;
    404) nok=$((nok + 1)) ;;
    *) other+=" #$i: $code $secs;" ;;
  esac
done
log "10 concurrent requests through max_requests 2: $n503 x 503, $nok x 404 (origin answer)${other:+, other:$other}"
if ((n503 >= 1 && n503 <= 8 && nok >= 2)) && [[ -z "$other" ]]; then
  pass "10 concurrent requests, max_requests 2: $n503 got 503, $nok were answered by the origin"
else fail "10 concurrent requests, max_requests 2: some 503, at least 2 answered" "$n503 x 503, $nok x 404, other:$other"; fi
if [[ -z "$badbody" ]]; then pass "every 503 is text/plain and names the overflow (e.g. $(tr -d '\r' <"$(grep -l '^503' "$WORK"/cb.*.res | head -1 | sed 's/res$/body/')" 2>/dev/null | head -c 120))"
else fail "every 503 is text/plain and names the overflow" "$badbody"; fi
if [[ -z "$slow503" ]]; then pass "the 503s fail fast (< 1 s; the origin takes 2 s)"
else fail "the 503s fail fast (< 1 s)" "$slow503"; fi
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
  ((ms < 2000)) || slowbad+=" $p took ${ms} ms;"
  log "GET $p: $code in ${ms} ms"
done
if [[ -z "$slowbad" ]]; then pass "per_try_timeout 300ms: ${#picks[@]} requests all 200 with the fixture body, each well under 3 s (< 2 s)"
else fail "per_try_timeout 300ms: requests succeed via the fast origin well under 3 s" "$slowbad"; fi
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

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
