#!/usr/bin/env bash
# Fleet rollouts survive a control plane restart (issue 10): one control
# plane, 3 sidecars (--concurrency 1), a rollout on route "public" from
# "stable" (origin S) to "canary" (origin C) driven by the fleet's reports.
#   - The rollout reaches stage 1 (50%) by its gates; the control plane is
#     SIGKILLed and started again: /rollouts shows it resumed at stage 1 from
#     its state file with the same history, no transition happened in the
#     new process, and every sidecar still ACKs the route table version it
#     had (nothing was pushed: no drop back to stage 0).
#   - The canary then answers 500 and the fleet is rolled back; killed and
#     started again, the control plane keeps it rolled back: the sidecars
#     stay at 0% while their reports reach the new process, and builds see
#     no error.
#   - A state file that does not parse is shown in /rollouts and the
#     rollout starts from the config.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/canary_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cp_lib.sh"
integ_init

BROKEN="$WORK/canary-broken"
start_named_origin S
start_named_origin C --fail-status 500 --fail-file "$BROKEN"

CP_DESIRED="$WORK/desired"
mkdir -p "$CP_DESIRED"
cp_desired_rollout "[{weight: 25, min_duration: 1s}, {weight: 50, min_duration: 3600s}, {weight: 100}]"
write_cp_config "$WORK/cp.yaml" "$CP_DESIRED"
CP_ADMIN_URL="http://127.0.0.1:$CP_ADMIN_PORT"
STATE_FILE="$WORK/cp.yaml.state/rollouts/public.json"
start_cp
start_sidecars 3 restart-pod

# The number of history entries of the control plane's rollout.
history_len() { cp_rollout_field public history | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'; }
persisted() { cp_rollout_field public persisted | python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"; }
# Every node's ACKed route table version, sorted.
route_versions() {
  fleet | python3 -c '
import json, sys
print(" ".join(sorted(n["types"].get("RouteTable", {}).get("acked_version", "-") for n in json.load(sys.stdin)["nodes"] if n["connected"])))'
}
transitions_in_this_process() { ADMIN_URL="$CP_ADMIN_URL" prom_value modgate_cp_rollout_transitions_total; }
nodes_reporting() { cp_rollout_field public fleet | python3 -c 'import json, sys; print(json.load(sys.stdin).get("nodes_reporting", 0))'; }
all_reporting() { [[ "$(nodes_reporting)" == "$NODES" ]]; }

STOP="$WORK/stop-traffic"
fleet_traffic &
TRAFFIC_PID=$!
_LIB_PIDS+=("$TRAFFIC_PID")

# 1. Stage 1, by the gates; then a restart.
if wait_until 180 cp_rollout_is public progressing 50; then
  pass "the fleet rollout reached stage 1 (50%) on the fleet's reports"
else
  fail "the fleet rollout reached stage 1" "$(curl -s --max-time 5 "$CP_ADMIN_URL/rollouts" | head -c 3000)"
fi
wait_until 60 fleet_told progressing 50 || fail "every sidecar was told 50%" "$(sidecars_rollouts | head -c 2000)"
wait_until 60 fleet_synced "$NODES" || fail "every sidecar ACKed 50%" "$(fleet | head -c 2000)"
[[ -s "$STATE_FILE" ]] && pass "the rollout's state is in $STATE_FILE (default state_dir beside the config)" ||
  fail "the rollout's state file exists" "$(ls -laR "$WORK/cp.yaml.state" 2>&1)"
history_before="$(history_len)"
versions_before="$(route_versions)"

restart_cp
assert_eq "after a restart the control plane's rollout is still at stage 1, 50%" "progressing 1 50" \
  "$(cp_rollout_field public state) $(cp_rollout_field public stage) $(cp_rollout_field public canary_weight)"
assert_eq "the history came back whole (no new start)" "$history_before" "$(history_len)"
[[ -n "$(persisted restored_from_saved_at)" && -z "$(persisted error)" ]] &&
  pass "/rollouts says the rollout was resumed from its state file (saved at $(persisted restored_from_saved_at))" ||
  fail "/rollouts says the rollout was resumed" "$(cp_rollout_field public persisted)"
assert_eq "the restarted control plane made no transition" 0 "$(transitions_in_this_process)"
if wait_until 120 fleet_synced "$NODES"; then
  pass "every sidecar reconnected and is in sync"
else
  fail "every sidecar reconnected" "$(fleet | head -c 2000)"
fi
assert_eq "every sidecar still ACKs the route table version it had (nothing pushed, no stage 0)" \
  "$versions_before" "$(route_versions)"
fleet_told progressing 50 && pass "every sidecar still serves 50%" ||
  fail "every sidecar still serves 50%" "$(sidecars_rollouts | head -c 2000)"
wait_until 120 all_reporting && pass "the sidecars' reports reach the new process" ||
  fail "the sidecars' reports reach the new process" "$(cp_rollout_field public fleet)"
assert_eq "... and the rollout holds stage 1 (min_duration 3600s counts from before the restart)" \
  "progressing 50" "$(cp_rollout_field public state) $(cp_rollout_field public canary_weight)"

# 2. A failing canary: rolled back; then a restart.
touch "$BROKEN"
if wait_until 120 cp_rollout_is public rolled_back 0; then
  pass "the failing canary was rolled back fleet-wide"
else
  fail "the failing canary was rolled back" "$(curl -s --max-time 5 "$CP_ADMIN_URL/rollouts" | head -c 3000)"
fi
wait_until 60 fleet_told rolled_back 0 || fail "every sidecar was told rolled_back" "$(sidecars_rollouts | head -c 2000)"
history_before="$(history_len)"
rm -f "$BROKEN"  # a healthy canary now: only the saved state keeps it rolled back
restart_cp
assert_eq "after a restart the rollout is still rolled back at 0%" "rolled_back 0" \
  "$(cp_rollout_field public state) $(cp_rollout_field public canary_weight)"
assert_eq "the history came back whole" "$history_before" "$(history_len)"
assert_match "the last reason is still the failed gate" 'gate failed: error_ratio' "$(cp_rollout_field public reason)"
wait_until 120 fleet_synced "$NODES" || fail "every sidecar reconnected" "$(fleet | head -c 2000)"
if wait_until 120 all_reporting; then
  pass "the sidecars' reports (with a healthy canary) reach the new process"
else
  fail "the sidecars' reports reach the new process" "$(cp_rollout_field public fleet)"
fi
assert_eq "the rolled-back canary is not promoted again" "rolled_back 0 0" \
  "$(cp_rollout_field public state) $(cp_rollout_field public canary_weight) $(transitions_in_this_process)"
fleet_told rolled_back 0 && pass "every sidecar stays at 0%" ||
  fail "every sidecar stays at 0%" "$(sidecars_rollouts | head -c 2000)"

touch "$STOP"
wait "$TRAFFIC_PID"
read -r bg_req bg_other bg_err <<<"$(traffic_summary "$WORK/bg.json")"
((bg_req >= 100)) && pass "background traffic: $bg_req requests" || fail "background traffic" "only $bg_req requests"
assert_eq "no build request failed across two control plane restarts" "0 0" "$bg_other $bg_err"

# 3. A state file that does not parse.
kill -KILL "$CP_PID"
wait "$CP_PID" 2>/dev/null
_forget_pid "$CP_PID"
printf '{"route": "public", "state": "rolled_b' >"$STATE_FILE"
start_cp
assert_eq "with an unreadable state file the rollout starts from the config" "progressing 0 25" \
  "$(cp_rollout_field public state) $(cp_rollout_field public stage) $(cp_rollout_field public canary_weight)"
assert_match "/rollouts shows why the state file was not used" \
  "public.json: not a fleet rollout state.*started from the config" "$(persisted error)"
[[ -s "$STATE_FILE.unreadable" ]] && pass "the unreadable file is kept aside" ||
  fail "the unreadable file is kept aside" "$(ls -la "$(dirname "$STATE_FILE")")"
finish
