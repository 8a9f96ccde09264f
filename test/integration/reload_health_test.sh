#!/usr/bin/env bash
# An unchanged cluster keeps its health state across a reload: cluster "hc"
# probes /healthz every 10 minutes (so no probe falls inside the test after
# the first round); A passes and B answers 500, so A is healthy and B
# failed_active_hc. A reload that changes only a route, and one that
# changes only hc's endpoint weights, leave both exactly so, at once, with
# no new probe (a rebuilt cluster would probe both again and show A
# unhealthy until its probe passed). As a control, a reload that changes
# hc's health check does rebuild it: both hosts are probed again.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/reload_lib.sh"
integ_init

make_healthz_tree "$WORK/tree"
start_named_origin A --root "$WORK/tree"
start_named_origin B --root "$WORK/tree" --fail-status 500 --fail-regex '^/healthz'
A="${O_HOST[A]}" B="${O_HOST[B]}"
pick_ports 1
mkdir -p "$WORK/etc"
write_config() { # FILE ROUTE_PREFIX WEIGHT_B HEALTH_PATH
  cat >"$1" <<EOF
$(config_head)
clusters:
  - name: hc
    endpoints:
      - url: "${O_URL[A]}"
      - url: "${O_URL[B]}"
        weight: $3
    health_check:
      path: $4
      interval: 600s
      timeout: 1s
      unhealthy_threshold: 1
      healthy_threshold: 1
  - name: other
    endpoints:
      - url: "${O_URL[A]}"
routes:
  - name: first
    match: { prefix: $2 }
    cluster: other
  - name: all
    cluster: hc
EOF
}
write_config "$WORK/c0.yaml" example.com/nothing 1 /healthz
write_config "$WORK/c1.yaml" example.com/else 1 /healthz
write_config "$WORK/c2.yaml" example.com/else 5 /healthz
write_config "$WORK/c3.yaml" example.com/else 5 /healthz?v=2
cp "$WORK/c0.yaml" "$WORK/etc/modgate.yaml"
start_modgate_file "$WORK/etc/modgate.yaml" --no-watch

if wait_until 60 flags_are hc "$A" '^healthy$' && wait_until 60 flags_are hc "$B" 'failed_active_hc'; then
  pass "first probes: A healthy, B failed_active_hc"
else fail "first probes" "A [$(host_field hc "$A" health_flags)] B [$(host_field hc "$B" health_flags)]"; fi
probes() { count_paths "${O_LOG[$1]}" '^/healthz'; }
pa="$(probes A)" pb="$(probes B)"
assert_eq "one probe each so far" "1 1" "$pa $pb"

# reload_then_check NAME FILE SEQ: reload, then the state right away.
reload_then_check() {
  local name="$1"
  cp "$2" "$WORK/etc/modgate.yaml"
  reload_post
  assert_eq "$name: reload 200" "200 $(expected_version "$3" "$2")" "$RELOAD_CODE $RELOAD_BODY"
  assert_eq "$name: right after, A healthy and B failed_active_hc" "healthy failed_active_hc" \
    "$(host_field hc "$A" health_flags) $(host_field hc "$B" health_flags)"
  sleep 1.5
  assert_eq "$name: 1.5 s later, still so" "healthy failed_active_hc" \
    "$(host_field hc "$A" health_flags) $(host_field hc "$B" health_flags)"
  assert_eq "$name: no new probe (the checker kept its schedule)" "$pa $pb" "$(probes A) $(probes B)"
}
reload_then_check "route-only change" "$WORK/c1.yaml" 1
reload_then_check "weight-only change of hc" "$WORK/c2.yaml" 2
assert_eq "B's new weight is live" 5 "$(host_field hc "$B" weight)"
assert_eq "modgate_upstream_host_healthy of B still 0" 0 \
  "$(prom_value modgate_upstream_host_healthy cluster=hc host="$B")"

# Control: a changed health check rebuilds the cluster and probes again.
cp "$WORK/c3.yaml" "$WORK/etc/modgate.yaml"
reload_post
assert_eq "health check change: reload 200" 200 "$RELOAD_CODE"
if wait_until 60 bash -c "(( \$(awk '\$2 ~ /^\\/healthz/' '${O_LOG[A]}' | wc -l) > $pa && \$(awk '\$2 ~ /^\\/healthz/' '${O_LOG[B]}' | wc -l) > $pb ))"; then
  pass "control: a changed health check rebuilds hc and probes both hosts again"
else fail "control: rebuilt cluster probes again" "A $(probes A) B $(probes B)"; fi
if wait_until 60 flags_are hc "$B" 'failed_active_hc' && wait_until 60 flags_are hc "$A" '^healthy$'; then
  pass "control: after the new probes, A healthy, B failed_active_hc"
else fail "control: state after new probes" "A [$(host_field hc "$A" health_flags)] B [$(host_field hc "$B" health_flags)]"; fi
code="$(http_get "$PROXY_URL/github.com/google/uuid/@v/v1.3.0.info")"
assert_eq "traffic served through hc (A only: B is unhealthy)" 200 "$code"
finish
