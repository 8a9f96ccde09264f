#!/usr/bin/env bash
# A config rollout across a control plane restart, and ended by an operator
# (issue 10, config rollout): one control plane with config_rollout
# {canary_percent: 20, hold: 30s} and its state in $WORK/state, 6 sidecars.
#   - SIGKILLed while holding and started again on the same state_dir, the
#     control plane keeps the other nodes on the previous version (it does
#     not promote past the gates), runs the rollout again (its reason says it
#     was resumed) and then promotes it; the state file goes with the end.
#   - POST /config_rollout/abort stops a rollout: the canary nodes are given
#     the previous version back, the version is recorded as stopped and not
#     served again when the directory is read again.
#   - POST /config_rollout/promote ends one at once: every node gets it.
#   - Both are POST only (405 to GET) and 409 when no rollout runs; both
#     show in /rollouts and in the control plane's log.
# Every wait is for an event (a phase in /rollouts, ACKs in /fleet).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/canary_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cp_lib.sh"
integ_init

start_desired_origin
STATE="$WORK/state"
write_cp_config "$WORK/cp.yaml" "$CP_DESIRED" "state_dir: $STATE" \
  "config_rollout: {canary_percent: 20, hold: 30s, evaluation_interval: 200ms}"
CP_ADMIN_URL="http://127.0.0.1:$CP_ADMIN_PORT"
start_cp
start_sidecars 6 cfg-pod
wait_until 120 fleet_synced "$NODES" || fail "every sidecar is in sync" "$(fleet | head -c 2000)"

post() { curl -s -o "$WORK/post.body" -w '%{http_code}' --max-time 5 -X POST "$CP_ADMIN_URL$1"; }
rollouts() { curl -s --max-time 5 "$CP_ADMIN_URL/rollouts" | head -c 3000; }
# runtime_of ID...: the Runtime version each node ACKed, one per line.
runtime_of() { type_field Runtime acked_version | grep -F -f <(printf '%s=\n' "$@") | sed 's/^[^=]*=//'; }
# every_node_on VERSION: all nodes connected, in sync, with that Runtime.
every_node_on() {
  fleet_synced "$NODES" && [[ "$(type_field Runtime acked_version | sed 's/^[^=]*=//' | sort -u)" == "$1" ]]
}
in_rollout() { phase_is waiting_for_acks || phase_is holding; }

assert_eq "GET /config_rollout/abort is refused" 405 \
  "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$CP_ADMIN_URL/config_rollout/abort")"
assert_eq "POST /config_rollout/promote with no rollout running: 409" 409 "$(post /config_rollout/promote)"
assert_match "... saying why" "no config rollout runs" "$(cat "$WORK/post.body")"

V0="$(type_field Runtime acked_version | sed 's/^[^=]*=//' | sort -u)"
[[ "$(wc -l <<<"$V0")" == 1 && -n "$V0" ]] || fail "every node on one Runtime version" "$V0"

# 1. SIGKILLed while holding: the restarted control plane resumes the rollout.
cp_desired "runtime: {spare: 1}"
wait_until 180 phase_is holding && pass "version 1 is holding on its canary nodes" ||
  fail "version 1 is holding" "$(rollouts)"
read -r -a CANARIES <<<"$(config_rollout canary_nodes)"
mapfile -t OTHERS < <(type_field Runtime acked_version | sed 's/=.*//' | grep -v -x -F -f <(printf '%s\n' "${CANARIES[@]}"))
V1="$(runtime_of "${CANARIES[@]}" | sort -u)"
((${#CANARIES[@]} >= 1 && ${#OTHERS[@]} >= 1)) && [[ "$V1" != "$V0" && "$(wc -l <<<"$V1")" == 1 ]] &&
  pass "canary nodes ${CANARIES[*]} ACKed version 1, ${#OTHERS[@]} others did not" ||
  fail "canaries on version 1, the others not" "canaries [${CANARIES[*]}] others [${OTHERS[*]}] $(type_field Runtime acked_version)"
[[ -s "$STATE/config_rollout_running.json" ]] && pass "the running rollout is kept in state_dir" ||
  fail "the running rollout is kept in state_dir" "$(ls -la "$STATE")"
restart_cp
reason="$(config_rollout reason)"
assert_match "restarted, the rollout runs again: resumed" "resumed after a control plane restart" "$reason"
in_rollout && pass "... from the start ($(config_rollout phase))" || fail "the rollout runs again" "$(rollouts)"
wait_until 120 fleet_synced "$NODES" || fail "every sidecar reconnected and in sync" "$(fleet | head -c 2000)"
if phase_is promoted; then
  fail "the other nodes checked before the promotion" "promoted before every sidecar reconnected: $(rollouts)"
else
  assert_eq "the other nodes are still served (and ACKed) the previous version" \
    "$V0" "$(runtime_of "${OTHERS[@]}" | sort -u)"
  assert_eq "the canary nodes are served version 1 again" "$V1" "$(runtime_of "${CANARIES[@]}" | sort -u)"
fi
wait_until 180 phase_is promoted && pass "the resumed rollout held and promoted: $(config_rollout reason)" ||
  fail "the resumed rollout promoted" "$(rollouts)"
wait_until 120 every_node_on "$V1" && pass "then every node ACKed version 1" ||
  fail "every node on version 1" "$(type_field Runtime acked_version)"
[[ ! -e "$STATE/config_rollout_running.json" ]] && pass "the state file is gone with the rollout" ||
  fail "the state file is removed" "$(cat "$STATE/config_rollout_running.json")"

# 2. An operator's abort.
cp_desired "runtime: {spare: 2}"
wait_until 180 phase_is holding || fail "version 2 is holding" "$(rollouts)"
assert_eq "POST /config_rollout/abort?reason=... answers 200" 200 \
  "$(post '/config_rollout/abort?reason=operator+test')"
assert_eq "/rollouts: stopped" stopped "$(config_rollout phase)"
assert_eq "/rollouts: the operator's reason" "aborted by an operator: operator test" "$(config_rollout reason)"
wait_until 120 every_node_on "$V1" && pass "the canary nodes are back on version 1 (every node in sync)" ||
  fail "every node back on version 1" "$(type_field Runtime acked_version)"
assert_match "the stopped version is kept in state_dir" "aborted by an operator: operator test" \
  "$(cat "$STATE/config_rollout.json" 2>/dev/null)"
reloads="$(ADMIN_URL="$CP_ADMIN_URL" prom_value modgate_cp_config_reload_total result=success)"
cp_desired "runtime: {spare: 2}" # the same bytes, written again
reloaded() { (($(ADMIN_URL="$CP_ADMIN_URL" prom_value modgate_cp_config_reload_total result=success) > reloads)); }
wait_until 60 reloaded || fail "the desired config was read again" "$(tail -5 "$WORK/cp.log")"
if phase_is stopped && every_node_on "$V1"; then
  pass "read again, the aborted version is not served"
else
  fail "the aborted version is not served again" "$(config_rollout phase) $(type_field Runtime acked_version)"
fi

# 3. An operator's promote.
cp_desired "runtime: {spare: 3}"
wait_until 180 in_rollout || fail "version 3 is rolling out" "$(rollouts)"
assert_eq "POST /config_rollout/promote answers 200" 200 "$(post /config_rollout/promote)"
assert_eq "/rollouts: promoted" promoted "$(config_rollout phase)"
assert_eq "/rollouts: by an operator" "promoted by an operator (control plane admin)" "$(config_rollout reason)"
all_on_v3() {
  local v
  v="$(type_field Runtime acked_version | sed 's/^[^=]*=//' | sort -u)"
  fleet_synced "$NODES" && [[ "$(wc -l <<<"$v")" == 1 && "$v" != "$V0" && "$v" != "$V1" ]]
}
wait_until 120 all_on_v3 && pass "every node ACKed version 3" ||
  fail "every node on version 3" "$(type_field Runtime acked_version)"
assert_eq "POST /config_rollout/abort once it ended: 409" 409 "$(post /config_rollout/abort)"
grep -q "stopped (aborted by an operator: operator test)" "$WORK/cp.log" &&
  grep -q "promoted to every node (promoted by an operator" "$WORK/cp.log" &&
  pass "the control plane's log has both" ||
  fail "the log has the abort and the promote" "$(grep -i 'config rollout' "$WORK/cp.log" | tail -8)"
finish
