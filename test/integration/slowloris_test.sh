#!/usr/bin/env bash
# Many-connection slowloris (issue 11, part 5): slowloris.py opens 200
# connections and sends each a byte of an endless request header every
# second. limits.request_timeout (3 s here) must close every one of them
# while the attacker keeps sending, and a normal client measured at the
# same time must get every answer:
#   sidecar: no per-client cap, attacker and normal client both on
#     127.0.0.1 (the global cap is not reached);
#   edge: max_connections_per_client 50 closes the attacker's extra
#     connections at accept, another address (127.0.0.2) is served and the
#     admin port answers.
# Correctness only: the normal client's times are printed, never asserted.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$INTEG_DIR/reload_lib.sh"
integ_init
PY=/usr/bin/python3
curl -s -o /dev/null --max-time 5 --interface 127.0.0.2 "http://127.0.0.1:1/" 2>/dev/null
[[ $? == 45 ]] && die "cannot use 127.0.0.2 as a source address"
start_origin
p=/github.com/google/uuid/@v/v1.3.0.info
ATTACKERS=200

# write_config FILE LIMITS_YAML
write_config() {
  cat >"$1" <<YAML
listeners:
  - name: main
    address: 127.0.0.1:${PORTS[0]}
$(origin_yaml)
limits:
  request_timeout: 3s
$2
YAML
}

# normal_client N SOURCE OUT: N requests one after the other, "code seconds"
# per line.
normal_client() {
  local i
  for ((i = 0; i < $1; i++)); do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 60 --interface "$2" "$PROXY_URL$p"
    sleep 0.2
  done >"$3"
}

# attack PHASE NORMAL_SOURCE: runs slowloris against modgate with a normal
# client beside it and checks both.
attack() {
  local phase="$1" source="$2" result good
  normal_client 20 "$source" "$WORK/normal.$phase" &
  local normal=$!
  result="$(timeout 300 "$PY" "$INTEG_DIR/slowloris.py" "${PORTS[0]}" "$ATTACKERS" 120)"
  wait "$normal"
  if [[ "$result" =~ ^opened\ $ATTACKERS\ closed\ $ATTACKERS\ open\ 0 ]]; then
    pass "$phase: every one of $ATTACKERS slowloris connections is closed by modgate while it trickles ($result)"
  else fail "$phase: every slowloris connection is closed" "$result"; fi
  good="$(grep -c '^200 ' "$WORK/normal.$phase")"
  assert_eq "$phase: a normal client from $source at the same time gets all 20 answers (median $(median_time "$WORK/normal.$phase") s each)" 20 "$good"
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$ADMIN_URL/ready")"
  assert_eq "$phase: the admin port answers /ready" 200 "$code"
}

pick_ports 1
write_config "$WORK/sidecar.yaml" ""
start_modgate_file "$WORK/sidecar.yaml"
code="$(http_get "$PROXY_URL$p")"
assert_eq "warm-up: $p is 200" 200 "$code"
normal_client 5 127.0.0.1 "$WORK/baseline"
log "normal client alone: median $(median_time "$WORK/baseline") s"
attack sidecar 127.0.0.1
wait_until 60 bash -c "(( \$(curl -s --max-time 5 '$ADMIN_URL/stats/prometheus' | awk '/^modgate_downstream_cx_active /{print \$2}') == 0 ))" &&
  pass "sidecar: no connection is left open afterwards (modgate_downstream_cx_active 0)" ||
  fail "sidecar: connections left" "modgate_downstream_cx_active $(prom_value modgate_downstream_cx_active)"
stop_modgate

pick_ports 1
write_config "$WORK/edge.yaml" "  max_connections_per_client: 50
  max_connections: 150"
start_modgate_file "$WORK/edge.yaml"
attack edge 127.0.0.2
overflow="$(prom_value modgate_downstream_cx_overflow_total)"
((overflow > 0)) && pass "edge: the attacker's connections past 50 were closed at accept ($overflow)" ||
  fail "edge: per-client cap" "modgate_downstream_cx_overflow_total is $overflow"
modgate_alive && pass "modgate is alive at the end" || fail "modgate alive" "it exited"
finish
