#!/usr/bin/env bash
# Failover between two origins under load, with
#   retry_policy { retry_on: [connect-failure, reset, 5xx], num_retries: 2,
#                  retry_host_predicate_previous_hosts: true }
#   outlier_detection { consecutive_5xx: 3, consecutive_gateway_failure: 3,
#                       base_ejection_time: 600s }
#   circuit_breakers { retry_budget { budget_percent: 100,
#                                     min_retry_concurrency: 32 } }
#     (see the config below for why)
# h2load sends 3000 distinct uncached .info/.mod requests (8 connections x 4
# streams) while `go get` + `go build` of the go_build_test program run
# through modgate; origin A is SIGKILLed midway. Expected:
#   - no client request fails: h2load reports 3000 succeeded, 0 failed,
#     0 errored, 0 timeout, and its status codes are all 2xx (no 5xx);
#   - A is ejected: /clusters shows failed_outlier_check,
#     modgate_upstream_ejections_total counted it; retries were made;
#   - afterwards no request is even tried on A;
#   - the go build succeeds and the program runs.
# The generated modules are files in a copy of the fixture (every URI is a
# 200, so h2load, which counts 4xx as failed, can be taken at its word).
# Each of the 8 connections is its own h2load -c 1 -m 4 with its own URI
# list: one h2load -c 8 -i FILE sends every client through the same list,
# which single flight and the cache would fold into ~375 upstream fetches.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing (apt-get install golang-go)"
command -v h2load >/dev/null || die "h2load is missing (apt-get install nghttp2-client)"

NMOD=1500   # x (.info, .mod) = 3000 URIs
tree="$WORK/tree"
copy_fixture "$tree" || die "cannot copy the fixture"
python3 - "$tree" "$NMOD" <<'EOF' || die "cannot generate modules"
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(1, n + 1):
    d = os.path.join(root, "example.com/fo/m%d/@v" % i)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "v1.0.0.info"), "w") as f:
        f.write('{"Version":"v1.0.0","Time":"2023-01-02T03:04:05Z"}\n')
    with open(os.path.join(d, "v1.0.0.mod"), "w") as f:
        f.write("module example.com/fo/m%d\n\ngo 1.19\n" % i)
    with open(os.path.join(d, "list"), "w") as f:
        f.write("v1.0.0\n")
EOF

# A small delay keeps requests in flight at A when it is killed.
start_named_origin A --root "$tree" --delay-ms 10
start_named_origin B --root "$tree" --delay-ms 10
A="${O_HOST[A]}" B="${O_HOST[B]}"
cat >"$WORK/fo.yaml" <<EOF
clusters:
  - name: fo
    endpoints:
      - url: ${O_URL[A]}
      - url: ${O_URL[B]}
    retry_policy:
      retry_on: [connect-failure, reset, 5xx]
      num_retries: 2
      retry_host_predicate_previous_hosts: true
    outlier_detection:
      consecutive_5xx: 3
      consecutive_gateway_failure: 3
      base_ejection_time: 600s
    # Every request in flight at A when it dies (3..5 on an idle machine,
    # up to ~16 of the 32 h2load streams when the CPU is contended) fails at
    # once and wants a retry, before any of those retries has an answer.
    # The default retry breaker (max_retries 3 in flight) refuses all but 3:
    # by design, it stops retry storms. Envoy's answer is a retry budget:
    # retries up to budget_percent of the requests in flight (100: a retry
    # for each request still running, so at most twice the load on B), and
    # at least min_retry_concurrency whatever the load: 32, as many as the
    # clients can have in flight, so that losing one endpoint never fails a
    # request even if it held most of them.
    circuit_breakers:
      retry_budget:
        budget_percent: 100
        min_retry_concurrency: 32
routes:
  - name: all
    cluster: fo
sumdbs:
  - name: $GOSUMDB_NAME
EOF
start_modgate -c "$WORK/fo.yaml"

# ---- before: both take traffic ------------------------------------------------
for ((i = 1; i <= 20; i++)); do echo "/example.com/fo/m$i/@v/list"; done >"$WORK/warm.paths"
run_paths "$WORK/warm.paths" 2
na="$(count_paths "${O_LOG[A]}" '^/example.com/fo/')" nb="$(count_paths "${O_LOG[B]}" '^/example.com/fo/')"
if [[ "$(run_status_count 200)" == 20 ]] && ((na > 0 && nb > 0)); then pass "before: both origins serve (A $na, B $nb)"
else fail "before: both origins serve" "summary $RUN_JSON, A $na, B $nb"; fi

# ---- load + go build, A killed midway ------------------------------------------------
for k in 0 1 2 3 4 5 6 7; do
  for ((i = k * NMOD / 8 + 1; i <= (k + 1) * NMOD / 8; i++)); do
    echo "$PROXY_URL/example.com/fo/m$i/@v/v1.0.0.info"
    echo "$PROXY_URL/example.com/fo/m$i/@v/v1.0.0.mod"
  done >"$WORK/uris.$k"
done
total_uris="$(cat "$WORK"/uris.? | wc -l)"

go_env failover
app="$GO_HOME/work/app"
mkdir -p "$app"
write_demo_main "$app/main.go"
(
  cd "$app" || exit 1
  mv main.go main.go.txt
  timeout -k 5 100 go mod init example.com/app &&
    timeout -k 5 100 go get github.com/spf13/cobra@latest &&
    mv main.go.txt main.go &&
    timeout -k 5 100 go build -o demo . && ./demo
) >"$WORK/go.out" 2>&1 &
go_pid=$!

h2_pids=()
for k in 0 1 2 3 4 5 6 7; do
  timeout -k 5 100 h2load -n "$(wc -l <"$WORK/uris.$k")" -c 1 -m 4 -i "$WORK/uris.$k" >"$WORK/h2load.$k" 2>&1 &
  h2_pids+=($!)
done

# Kill A once it has served a few hundred of the load's requests.
if wait_until 30 bash -c "(( \$(awk '\$2 ~ /^\/example.com\/fo\/m[0-9]+\/@v\/v1.0.0/' '${O_LOG[A]}' | wc -l) >= 300 ))"; then :; fi
a_at_kill="$(count_paths "${O_LOG[A]}" '^/example.com/fo/m[0-9]+/@v/v1.0.0')"
kill_named_origin A KILL
log "SIGKILLed origin A after it served $a_at_kill load requests"
b_at_kill="$(count_paths "${O_LOG[B]}" '^/example.com/fo/m[0-9]+/@v/v1.0.0')"

h2_rc=0
for p in "${h2_pids[@]}"; do wait "$p" || h2_rc=$?; done
wait "$go_pid"; go_rc=$?
b_after="$(count_paths "${O_LOG[B]}" '^/example.com/fo/m[0-9]+/@v/v1.0.0')"

if ((a_at_kill >= 300 && b_after - b_at_kill > 100)); then
  pass "A was killed midway (A had served $a_at_kill load requests; B served $((b_after - b_at_kill)) after the kill)"
else fail "A was killed midway through the load" "A served $a_at_kill before, B $((b_after - b_at_kill)) after"; fi

# Sum the 8 h2load reports.
sums="$(cat "$WORK"/h2load.? | awk '
  /^requests:/ { for (i = 2; i <= NF; i++) { v = $i + 0; w = $(i + 1); gsub(/,/, "", w); if (w ~ /^(total|done|succeeded|failed|errored|timeout)$/) s[w] += v } }
  /^status codes:/ { for (i = 3; i <= NF; i++) { v = $i + 0; w = $(i + 1); gsub(/,/, "", w); if (w ~ /xx$/) s[w] += v } }
  END { printf "total=%d done=%d succeeded=%d failed=%d errored=%d timeout=%d 2xx=%d 3xx=%d 4xx=%d 5xx=%d",
        s["total"], s["done"], s["succeeded"], s["failed"], s["errored"], s["timeout"], s["2xx"], s["3xx"], s["4xx"], s["5xx"] }')"
log "h2load (8 connections x 4 streams): $sums"
want="total=$total_uris done=$total_uris succeeded=$total_uris failed=0 errored=0 timeout=0 2xx=$total_uris 3xx=0 4xx=0 5xx=0"
if [[ "$sums" == "$want" && "$h2_rc" == 0 ]]; then
  pass "h2load: $total_uris requests, 0 failed, 0 errored, 0 timeout, all 2xx, no 5xx ($sums)"
else
  fail "h2load: $total_uris requests with 0 failed, 0 errored, no 5xx across A's SIGKILL" "got [$sums], want [$want] (exit $h2_rc)"
  for k in 0 1 2 3 4 5 6 7; do grep -E '^(requests|status codes):' "$WORK/h2load.$k" | sed "s/^/    h2load.$k: /"; done
  # Why: modgate logs each fetch that finally failed; the retry circuit
  # breaker (the retry budget above) refuses retries silently.
  echo "    modgate_upstream_rq_retry_total $(prom_value modgate_upstream_rq_retry_total cluster=fo)," \
    "modgate_upstream_rq_retry_overflow_total $(prom_value modgate_upstream_rq_retry_overflow_total cluster=fo)"
  grep -E 'fetch .* failed' "$MODGATE_STDERR" | sed -E 's/^[^ ]+ //' | sort | uniq -c | sort -rn | head -8 | sed 's/^/    modgate: /'
  grep -E 'fetch .* failed' "$MODGATE_STDERR" | sed -E 's/.* failed: //; s/\(http[^)]*\)|\([0-9.:]+\)//' | sort | uniq -c | sed 's/^/    failure kinds: /'
fi

if ((go_rc == 0)) && [[ "$(tail -n 1 "$WORK/go.out")" == "$DEMO_OUTPUT" ]]; then
  pass "go mod init + go get cobra@latest + go build through modgate during the failover: built and ran"
else
  fail "go get + go build through modgate during the failover" "exit $go_rc"
  show_tail "$WORK/go.out" 20 "go output"
fi

# ---- A ejected ------------------------------------------------------------------------
if wait_until 60 flags_are fo "$A" 'failed_outlier_check'; then
  pass "A is ejected: /clusters shows A $(host_field fo "$A" health_flags)"
else fail "A is ejected: /clusters shows A failed_outlier_check" "A's health_flags: [$(host_field fo "$A" health_flags)]"; fi
assert_eq "B is not ejected" healthy "$(host_field fo "$B" health_flags)"
ej="$(prom_value modgate_upstream_ejections_total cluster=fo)"
if ((ej >= 1)); then pass "modgate_upstream_ejections_total{cluster=fo} counted the ejection ($ej)"
else fail "modgate_upstream_ejections_total{cluster=fo} counted the ejection" "it is $ej"; fi
assert_eq "modgate_upstream_host_healthy{A} is 0" 0 "$(prom_value modgate_upstream_host_healthy cluster=fo host="$A")"
assert_eq "no retry was refused by the retry budget (modgate_upstream_rq_retry_overflow_total)" 0 \
  "$(prom_value modgate_upstream_rq_retry_overflow_total cluster=fo)"
rt="$(prom_value modgate_upstream_rq_retry_total cluster=fo)"
if ((rt >= 1)); then pass "requests that met the dead A were retried (modgate_upstream_rq_retry_total $rt)"
else fail "requests that met the dead A were retried" "modgate_upstream_rq_retry_total is $rt"; fi

# ---- after: nothing tried on A ---------------------------------------------------------
a_total="$(host_field fo "$A" rq_total)"
for ((i = 1; i <= 200; i++)); do echo "/example.com/fo/m$i/@v/list"; done | tail -n 180 >"$WORK/after.paths"
run_paths "$WORK/after.paths" 4
assert_eq "after the ejection: 180 more requests all answered 200 (summary $RUN_JSON)" 180 "$(run_status_count 200)"
assert_eq "after the ejection: no attempt went to A (its rq_total stays $a_total)" "$a_total" "$(host_field fo "$A" rq_total)"

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
