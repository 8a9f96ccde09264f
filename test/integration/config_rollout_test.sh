#!/usr/bin/env bash
# A new desired-config version goes to a share of the nodes first (issue 10,
# section 4, config rollout): one control plane with config_rollout
# {canary_percent: 20, hold: 3s}, 6 sidecars (--concurrency 1).
#   - A good version (a new runtime value) reaches the canary nodes first: each of
#     them ACKed it before any other node did, and the others only after
#     the rollout was promoted; then every node has it.
#   - A version one canary node NACKs (a listener on that node's own port,
#     taken there) is stopped: /rollouts says which node NACKed and why, the
#     canary nodes are back on the previous version, and the other nodes
#     never received the new listener.
# Every wait is for an event (a phase in /rollouts, ACKs in /fleet).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/canary_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cp_lib.sh"
integ_init

start_desired_origin
desired() { cp_desired "$@"; }
write_cp_config "$WORK/cp.yaml" "$CP_DESIRED" \
  "config_rollout: {canary_percent: 20, hold: 3s, evaluation_interval: 200ms}"
CP_ADMIN_URL="http://127.0.0.1:$CP_ADMIN_PORT"
start_cp
start_sidecars 6 cfg-pod
wait_until 120 fleet_synced "$NODES" || fail "every sidecar is in sync" "$(fleet | head -c 2000)"

assert_eq "before any change the config rollout is idle" idle "$(config_rollout phase)"

# 1. A good version: the canary nodes first, then all.
SPARE="runtime: {spare: 1}"
runtime_before="$(type_field Runtime acked_version | head -1)"
desired "$SPARE"
if wait_until 180 phase_is promoted; then
  pass "the new version was promoted after the hold: $(config_rollout reason)"
else
  fail "the new version was promoted" "$(curl -s --max-time 5 "$CP_ADMIN_URL/rollouts" | head -c 3000)"
fi
read -r -a CANARIES <<<"$(config_rollout canary_nodes)"
((${#CANARIES[@]} >= 1 && ${#CANARIES[@]} < NODES)) &&
  pass "a share of the nodes were canaries: ${CANARIES[*]}" ||
  fail "a share of the nodes were canaries" "[${CANARIES[*]}]"
all_have_new_version() {
  local versions
  versions="$(type_field Runtime acked_version | sed 's/^[^=]*=//' | sort -u)"
  [[ "$(wc -l <<<"$versions")" == 1 && "$versions" != "${runtime_before#*=}" ]] && fleet_synced "$NODES"
}
wait_until 120 all_have_new_version && pass "then every node ACKed the new version" ||
  fail "every node ACKed the new version" "$(type_field Runtime acked_version)"
order="$(python3 - "$(config_rollout finished_at)" "${CANARIES[*]}" "$(type_field Runtime acked_at_ms)" <<'PY'
import datetime, sys
finished = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
    tzinfo=datetime.timezone.utc).timestamp() * 1000
canaries = set(sys.argv[2].split())
acked = dict(line.split("=") for line in sys.argv[3].split())
first = max(int(v) for k, v in acked.items() if k in canaries)
rest = min(int(v) for k, v in acked.items() if k not in canaries)
print("ok" if first <= rest and rest >= finished - 5 else "bad",
      "canaries ACKed by", first, "others from", rest, "promoted at", int(finished))
PY
)"
[[ "$order" == ok* ]] && pass "the canary nodes ACKed it before any other node, the others after the promotion" ||
  fail "the canary nodes first, the others after the promotion" "$order"

# 2. A version one canary node NACKs: a listener on its own port.
VICTIM="${CANARIES[0]}"
VICTIM_PORT="${URLS[${VICTIM##*-}]##*:}"
listeners_before="$(type_field Listener acked_version)"
sent_before="$(type_field Listener resources_sent)"
desired "$SPARE" "listeners:" "  - {name: extra, address: 127.0.0.1:$VICTIM_PORT}"
if wait_until 180 phase_is stopped; then
  pass "the version was stopped"
else
  fail "the version was stopped" "$(curl -s --max-time 5 "$CP_ADMIN_URL/rollouts" | head -c 3000)"
fi
assert_match "/rollouts says which canary node NACKed it and why" \
  "canary node $VICTIM NACKed .*Listener.*127\.0\.0\.1:$VICTIM_PORT" "$(config_rollout reason)"
config_rollout_undone Listener "$listeners_before" "$sent_before" "the new listener"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${URLS[${VICTIM##*-}]}/example.com/x/@v/list")"
[[ "$code" != 000 ]] && pass "the NACKing node still serves on its port (HTTP $code)" ||
  fail "the NACKing node still serves" "no answer"

# 3. A restarted control plane does not serve the stopped version to every
# node: it stays not ready, says why in /status, and the sidecars keep theirs.
kill -KILL "$CP_PID"
wait "$CP_PID" 2>/dev/null
_forget_pid "$CP_PID"
"$MODGATE" control-plane -c "$CP_CONFIG" >>"$WORK/cp.log" 2>&1 &
CP_PID=$!
_LIB_PIDS+=("$CP_PID")
held() { [[ "$(curl -s --max-time 5 "$CP_ADMIN_URL/status")" == *"stopped by a config rollout"* ]]; }
if wait_until 120 held; then
  pass "restarted on the stopped version, the control plane holds it back: /status says why"
else
  fail "the restarted control plane holds the stopped version back" "$(curl -s --max-time 5 "$CP_ADMIN_URL/status"; tail -5 "$WORK/cp.log")"
fi
assert_eq "... and is not ready" 503 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$CP_ADMIN_URL/ready")"
n=0
for ((i = 0; i < NODES; i++)); do
  curl -s --max-time 5 "${ADMINS[i]}/config_dump" | python3 -c '
import json, sys
found = []
def walk(v):
    if isinstance(v, dict):
        if v.get("name") == "extra" and "address" in v:
            found.append(v)
        for x in v.values():
            walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
walk(json.load(sys.stdin))
sys.exit(0 if found else 1)' && n=$((n + 1))
done
assert_eq "no sidecar has the stopped listener" 0 "$n"
# Reverting the desired config serves the fleet again.
desired "$SPARE"
wait_until 120 fleet_synced "$NODES" && pass "the desired config reverted: every node in sync again" ||
  fail "the desired config reverted: every node in sync" "$(fleet | head -c 2000)"
finish
