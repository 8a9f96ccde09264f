#!/usr/bin/env bash
# Weighted load balancing over three real origins (weights 70/20/10), one
# cluster per policy, each sent 10,000 uncached requests (distinct
# /example.com/<policy>/w<i>/@v/list paths, which every origin answers 404,
# so each one is a cache miss and reaches exactly one origin):
#   ROUND_ROBIN    8 concurrent keep-alive clients: shares within ±2 points
#   RANDOM         8 concurrent clients: within ±3 points
#   LEAST_REQUEST  one sequential client: within ±3 points. Sequential on
#                  purpose: with unequal weights LEAST_REQUEST picks by
#                  weight / (active requests + 1) (Envoy's active_request_bias
#                  1), so under concurrency it deliberately drifts from the
#                  configured weights; with no request in flight at pick
#                  time it must follow them.
# Each origin's request log is the ground truth; modgate's per-host
# modgate_upstream_rq_total and /clusters rq_total must agree with it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
integ_init

N="${LB_WEIGHTS_REQUESTS:-10000}"
start_named_origin A
start_named_origin B
start_named_origin C

cfg="$WORK/weights.yaml"
{
  echo "clusters:"
  for pol in rr:ROUND_ROBIN lr:LEAST_REQUEST rand:RANDOM; do
    echo "  - name: ${pol%%:*}"
    echo "    lb_policy: ${pol#*:}"
    echo "    endpoints:"
    echo "      - url: ${O_URL[A]}"
    echo "        weight: 70"
    echo "      - url: ${O_URL[B]}"
    echo "        weight: 20"
    echo "      - url: ${O_URL[C]}"
    echo "        weight: 10"
  done
  echo "routes:"
  for c in rr lr rand; do
    echo "  - name: $c"
    echo "    match: { prefix: example.com/$c/ }"
    echo "    cluster: $c"
  done
} >"$cfg"
start_modgate -c "$cfg"

# weights_case CLUSTER LABEL CONCURRENCY TOLERANCE
weights_case() {
  local c="$1" label="$2" conc="$3" tol="$4" i o
  for ((i = 1; i <= N; i++)); do echo "/example.com/$c/w$i/@v/list"; done >"$WORK/$c.paths"
  run_paths "$WORK/$c.paths" "$conc" "$WORK/$c.out"
  log "$label: $RUN_JSON"
  assert_eq "$label: all $N requests answered 404 by an origin (summary $RUN_JSON)" "$N" "$(run_status_count 404)"
  local -A n=()
  for o in A B C; do n[$o]="$(count_paths "${O_LOG[$o]}" "^/example.com/$c/")"; done
  share_check "$label: origin shares match weights 70/20/10 within ±$tol points" "$tol" \
    "A=${n[A]}=70" "B=${n[B]}=20" "C=${n[C]}=10"
  local bad=""
  for o in A B C; do
    local m t
    m="$(prom_value modgate_upstream_rq_total cluster="$c" host="${O_HOST[$o]}")"
    t="$(host_field "$c" "${O_HOST[$o]}" rq_total)"
    [[ "$m" == "${n[$o]}" && "$t" == "${n[$o]}" ]] || bad+=" $o: log ${n[$o]}, metric $m, /clusters rq_total $t;"
  done
  if [[ -z "$bad" ]]; then pass "$label: modgate_upstream_rq_total and /clusters rq_total equal each origin's log"
  else fail "$label: modgate_upstream_rq_total and /clusters rq_total equal each origin's log" "$bad"; fi
}

weights_case rr "ROUND_ROBIN" 8 2
weights_case rand "RANDOM" 8 3
weights_case lr "LEAST_REQUEST (sequential)" 1 3

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
