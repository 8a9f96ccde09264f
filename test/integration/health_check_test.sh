#!/usr/bin/env bash
# Active health checking of a two-endpoint cluster (Envoy semantics):
#   health_check { path: /healthz, interval: 200ms, timeout: 100ms,
#                  unhealthy_threshold: 2, healthy_threshold: 2 }
# Both origins serve a copy of the fixture with a /healthz file; origin B
# answers 500 on /healthz while a flag file exists (origin.py --fail-file).
#   - both pass their probes: /clusters says healthy, traffic reaches both;
#   - B's /healthz turns 500: after 2 failed probes /clusters shows B
#     failed_active_hc, modgate_upstream_host_healthy{B} is 0, and 100
#     requests all go to A;
#   - B's /healthz back to 200: after 2 passed probes B is healthy again,
#     the gauge is 1, and B gets traffic again.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
integ_init

tree="$WORK/tree"
make_healthz_tree "$tree"
flag="$WORK/b-healthz-fails"
rm -f "$flag"
start_named_origin A --root "$tree"
start_named_origin B --root "$tree" --fail-status 500 --fail-regex '^/healthz$' --fail-file "$flag"
A="${O_HOST[A]}" B="${O_HOST[B]}"

write_health_checked_config "$WORK/hc.yaml" hc
start_modgate -c "$WORK/hc.yaml"

# traffic TAG: 100 distinct uncached requests; sets NA NB (module requests
# each origin got, /healthz excluded) and checks they were all answered.
round=0
traffic() {
  round=$((round + 1))
  local i
  for ((i = 1; i <= 100; i++)); do echo "/example.com/hc$round/m$i/@v/list"; done >"$WORK/hc$round.paths"
  run_paths "$WORK/hc$round.paths" 4 "$WORK/hc$round.out"
  assert_eq "$1: 100 requests answered 404 by the origins (summary $RUN_JSON)" 100 "$(run_status_count 404)"
  NA="$(count_paths "${O_LOG[A]}" "^/example.com/hc$round/")"
  NB="$(count_paths "${O_LOG[B]}" "^/example.com/hc$round/")"
}
healthz_count() { awk -v s="$2" '$2 == "/healthz" && $3 == s { n++ } END { print n + 0 }' "${O_LOG[$1]}"; }

# ---- both healthy -------------------------------------------------------------
if wait_until 60 flags_are hc "$A" '^healthy$' && wait_until 60 flags_are hc "$B" '^healthy$'; then
  pass "both endpoints pass their first probes: /clusters shows them healthy (${WAITED_MS} ms)"
else
  fail "both endpoints become healthy" "A: $(host_field hc "$A" health_flags), B: $(host_field hc "$B" health_flags)"
fi
if (($(healthz_count A 200) > 0 && $(healthz_count B 200) > 0)); then
  pass "modgate probes GET /healthz on both origins (A: $(healthz_count A 200), B: $(healthz_count B 200) so far)"
else fail "modgate probes GET /healthz on both origins" "A: $(healthz_count A 200), B: $(healthz_count B 200)"; fi
traffic "both healthy"
if ((NA > 0 && NB > 0 && NA + NB == 100)); then pass "both healthy: traffic reaches both (A $NA, B $NB)"
else fail "both healthy: traffic reaches both" "A $NA, B $NB"; fi
assert_eq "both healthy: modgate_upstream_host_healthy{B} is 1" 1 "$(prom_value modgate_upstream_host_healthy cluster=hc host="$B")"

# ---- B's /healthz fails --------------------------------------------------------
touch "$flag"
t0="$(date +%s%N)"
if wait_until 60 flags_are hc "$B" 'failed_active_hc'; then
  pass "B's /healthz answers 500: /clusters shows B failed_active_hc after ${WAITED_MS} ms ($(host_field hc "$B" health_flags))"
else
  fail "B's /healthz answers 500: /clusters shows B failed_active_hc" "after ${WAITED_MS} ms still [$(host_field hc "$B" health_flags)]; B answered $(healthz_count B 500) probes with 500"
  show_tail "$MODGATE_STDERR" 10 "modgate output"
fi
n500="$(healthz_count B 500)"
if ((n500 >= 2)); then pass "B was marked only after unhealthy_threshold (2) failed probes (B answered $n500 probes 500 by then)"
else fail "B was marked only after unhealthy_threshold (2) failed probes" "B answered $n500 probes 500"; fi
assert_eq "B unhealthy: A still healthy in /clusters" healthy "$(host_field hc "$A" health_flags)"
assert_eq "B unhealthy: modgate_upstream_host_healthy{B} is 0" 0 "$(prom_value modgate_upstream_host_healthy cluster=hc host="$B")"
assert_eq "B unhealthy: modgate_upstream_host_healthy{A} is 1" 1 "$(prom_value modgate_upstream_host_healthy cluster=hc host="$A")"
traffic "B unhealthy"
if ((NA == 100 && NB == 0)); then pass "B unhealthy: all 100 requests went to A"
else fail "B unhealthy: all 100 requests go to A" "A got $NA, B got $NB"; fi

# ---- B's /healthz passes again ---------------------------------------------------
ok_before="$(healthz_count B 200)"
rm -f "$flag"
if wait_until 60 flags_are hc "$B" '^healthy$'; then
  pass "B's /healthz back to 200: /clusters shows B healthy after ${WAITED_MS} ms"
else
  fail "B's /healthz back to 200: B healthy again" "after ${WAITED_MS} ms still [$(host_field hc "$B" health_flags)]"
fi
nok=$(($(healthz_count B 200) - ok_before))
if ((nok >= 2)); then pass "B came back only after healthy_threshold (2) passed probes ($nok by then)"
else fail "B came back only after healthy_threshold (2) passed probes" "only $nok passed probes"; fi
assert_eq "B healthy again: modgate_upstream_host_healthy{B} is 1" 1 "$(prom_value modgate_upstream_host_healthy cluster=hc host="$B")"
traffic "B healthy again"
if ((NB > 0 && NA + NB == 100)); then pass "B healthy again: B gets traffic again (A $NA, B $NB)"
else fail "B healthy again: B gets traffic again" "A $NA, B $NB"; fi

# ---- probe cadence: interval 200ms -----------------------------------------------
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
probes="$(awk -v p=/healthz '$2 == p { n++ } END { print n + 0 }' "${O_LOG[A]}")"
log "A got $probes probes; ${elapsed_ms} ms since B's flip"
if ((probes >= 3)); then pass "A is probed repeatedly ($probes probes so far)"
else fail "A is probed repeatedly" "$probes probes"; fi

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
