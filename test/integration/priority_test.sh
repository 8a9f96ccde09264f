#!/usr/bin/env bash
# Priority levels with active health checks: endpoint A at priority 0, B at
# priority 1, health_check on /healthz (200ms interval, thresholds 2); each
# origin answers 500 on /healthz while its flag file exists.
#   - both healthy: all traffic to A (priority 0 is fully healthy);
#   - A's health fails: all traffic to B (priority 1);
#   - both fail: every level in panic, so (as in Envoy's total panic) the
#     load is spread over both levels by their sizes and the requests are
#     still answered, since the origins do serve modules;
#   - both healthy again: all traffic back to A.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
integ_init

tree="$WORK/tree"
make_healthz_tree "$tree"
rm -f "$WORK/a-fails" "$WORK/b-fails"
start_named_origin A --root "$tree" --fail-status 500 --fail-regex '^/healthz$' --fail-file "$WORK/a-fails"
start_named_origin B --root "$tree" --fail-status 500 --fail-regex '^/healthz$' --fail-file "$WORK/b-fails"
A="${O_HOST[A]}" B="${O_HOST[B]}"

write_health_checked_config "$WORK/prio.yaml" prio 0 1
start_modgate -c "$WORK/prio.yaml"

round=0
# traffic LABEL: 100 distinct uncached requests (404 from whichever origin);
# sets NA NB.
traffic() {
  round=$((round + 1))
  local i
  for ((i = 1; i <= 100; i++)); do echo "/example.com/prio$round/m$i/@v/list"; done >"$WORK/p$round.paths"
  run_paths "$WORK/p$round.paths" 4 "$WORK/p$round.out"
  NA="$(count_paths "${O_LOG[A]}" "^/example.com/prio$round/")"
  NB="$(count_paths "${O_LOG[B]}" "^/example.com/prio$round/")"
  local n404
  n404="$(run_status_count 404)"
  if [[ "$n404" == 100 ]]; then pass "$1: 100 requests answered by the origins (404) (A $NA, B $NB)"
  else fail "$1: 100 requests answered by the origins (404)" "summary $RUN_JSON; e.g. $(awk '$2 != 404' "$WORK/p$round.out" | head -2 | tr '\n' ';')"; fi
}
state() { echo "A $(host_field prio "$A" health_flags), B $(host_field prio "$B" health_flags)"; }

if wait_until 60 flags_are prio "$A" '^healthy$' && wait_until 60 flags_are prio "$B" '^healthy$'; then
  pass "both endpoints healthy at start ($(state))"
else fail "both endpoints healthy at start" "$(state)"; fi
traffic "both healthy"
if ((NA == 100 && NB == 0)); then pass "both healthy: all traffic to priority 0 (A)"
else fail "both healthy: all traffic to priority 0 (A)" "A $NA, B $NB"; fi

touch "$WORK/a-fails"
if wait_until 60 flags_are prio "$A" failed_active_hc; then pass "A's /healthz fails: A marked failed_active_hc (${WAITED_MS} ms)"
else fail "A's /healthz fails: A marked failed_active_hc" "$(state)"; fi
traffic "A unhealthy"
if ((NA == 0 && NB == 100)); then pass "A unhealthy: all traffic to priority 1 (B)"
else fail "A unhealthy: all traffic to priority 1 (B)" "A $NA, B $NB"; fi

touch "$WORK/b-fails"
if wait_until 60 flags_are prio "$B" failed_active_hc; then pass "B's /healthz fails too: B marked failed_active_hc (${WAITED_MS} ms; $(state))"
else fail "B's /healthz fails too: B marked failed_active_hc" "$(state)"; fi
np="$(prom_value modgate_upstream_no_healthy_host_total cluster=prio)"
traffic "both unhealthy (panic)"
if ((NA > 0 && NB > 0 && NA + NB == 100)); then pass "both unhealthy: panic spreads the traffic over both levels (A $NA, B $NB)"
else fail "both unhealthy: panic spreads the traffic over both levels" "A $NA, B $NB"; fi
assert_eq "both unhealthy: no request failed for want of a host (modgate_upstream_no_healthy_host_total unchanged)" "$np" "$(prom_value modgate_upstream_no_healthy_host_total cluster=prio)"

rm -f "$WORK/a-fails" "$WORK/b-fails"
if wait_until 60 flags_are prio "$A" '^healthy$' && wait_until 60 flags_are prio "$B" '^healthy$'; then
  pass "both /healthz pass again: both healthy ($(state))"
else fail "both /healthz pass again: both healthy" "$(state)"; fi
traffic "both healthy again"
if ((NA == 100 && NB == 0)); then pass "both healthy again: all traffic back to priority 0 (A)"
else fail "both healthy again: all traffic back to priority 0 (A)" "A $NA, B $NB"; fi

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
