#!/usr/bin/env bash
# A config rollout stopped by the canary nodes' traffic on a route without
# any rollout (issue 10, config rollout): one control plane with
# config_rollout {canary_percent: 20, hold: 30s} and its own error-ratio
# gate, 6 sidecars with builds running through every one of them.
#   - The new desired config points cluster "origin", behind route "public"
#     (no rollout, no weighted clusters), at an origin that answers 500. The
#     canary sidecars' builds fail; their fleet reports' totals carry it, the
#     gate fails and /rollouts says so.
#   - The canary sidecars are given the previous version back and build
#     through the good origin again; the other sidecars never received the
#     new cluster and none of their builds failed.
# Every wait is for an event (a phase in /rollouts, ACKs in /fleet).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/canary_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cp_lib.sh"
integ_init

start_desired_origin
start_named_origin BAD --fail-status 500
# No report_interval: while a config rollout runs, the sidecars are asked to
# report every evaluation_interval (10 s otherwise). A gate that has too few
# requests holds the rollout rather than passing it.
write_cp_config "$WORK/cp.yaml" "$CP_DESIRED" \
  "config_rollout:" \
  "  canary_percent: 20" \
  "  hold: 30s" \
  "  evaluation_interval: 200ms" \
  "  gates: [{metric: ERROR_RATIO, max: 0.05, window: 10s, min_requests: 10}]"
CP_ADMIN_URL="http://127.0.0.1:$CP_ADMIN_PORT"
start_cp
start_sidecars 6 traffic-pod
wait_until 120 fleet_synced "$NODES" || fail "every sidecar is in sync" "$(fleet | head -c 2000)"

# Builds through every sidecar in turn until $STOP exists: one line per
# build in $WORK/builds, "NODE-INDEX SUMMARY-JSON".
STOP="$WORK/stop-traffic"
node_builds() {
  local k=0 n
  while [[ ! -e "$STOP" ]] && ((k < 2000)); do
    k=$((k + 1))
    n=$((k % NODES))
    split_paths "$WORK/b$k.paths" "b$k" 20
    PROXY_URL="${URLS[n]}" run_paths "$WORK/b$k.paths" 4 "$WORK/b$k.out"
    echo "$n $RUN_JSON" >>"$WORK/builds"
    rm -f "$WORK/b$k.paths" "$WORK/b$k.out"
  done
}
# failed_builds NODE-INDEX...: builds of those nodes with an error or an
# answer other than the origin's 404.
failed_builds() {
  python3 -c '
import json, sys
nodes = set(sys.argv[2:])
bad = 0
for line in open(sys.argv[1]):
    n, _, summary = line.partition(" ")
    if n not in nodes:
        continue
    o = json.loads(summary or "{}")
    other = sum(v for k, v in o.get("status", {}).items() if k != "404")
    bad += 1 if other or o.get("errors", 0) else 0
print(bad)' "$WORK/builds" "$@"
}
: >"$WORK/builds"
node_builds &
TRAFFIC_PID=$!
_LIB_PIDS+=("$TRAFFIC_PID")

clusters_before="$(type_field Cluster acked_version)"
sent_before="$(type_field Cluster resources_sent)"
# The bad version: the same route, no rollout anywhere, its cluster on the
# origin that answers 500.
{
  printf '%s\n' "clusters:" "  - name: origin" "    endpoints: [{url: \"${O_URL[BAD]}\"}]" \
    "routes:" "  - {name: public, cluster: origin}"
} >"$CP_DESIRED/config.yaml.tmp"
mv "$CP_DESIRED/config.yaml.tmp" "$CP_DESIRED/config.yaml"

if wait_until 240 phase_is stopped; then
  pass "the config rollout was stopped: $(config_rollout reason)"
else
  fail "the config rollout was stopped" "$(curl -s --max-time 5 "$CP_ADMIN_URL/rollouts" | head -c 3000)"
fi
assert_match "... by its error-ratio gate" "gate failed: error_ratio" "$(config_rollout reason)"
reported_fast="$(cat "$WORK"/modgate.*.log | grep -c "reporting every 200 ms")"
((reported_fast >= NODES)) && pass "while it ran, every sidecar reported every 200 ms (its evaluation_interval)" ||
  fail "every sidecar reported every 200 ms while it ran" "$reported_fast log lines"
read -r -a CANARIES <<<"$(config_rollout canary_nodes)"
CANARY_INDEXES=() OTHER_INDEXES=()
for ((i = 0; i < NODES; i++)); do
  if printf '%s\n' "${CANARIES[@]}" | grep -q -x -F "traffic-pod-$i"; then
    CANARY_INDEXES+=("$i")
  else
    OTHER_INDEXES+=("$i")
  fi
done
((${#CANARY_INDEXES[@]} >= 1 && ${#OTHER_INDEXES[@]} >= 1)) &&
  pass "a share of the nodes were canaries: ${CANARIES[*]}" ||
  fail "a share of the nodes were canaries" "[${CANARIES[*]}]"
bad_requests="$(wc -l <"${O_LOG[BAD]}")"
((bad_requests > 0)) && pass "the canary sidecars sent traffic to the failing origin ($bad_requests requests)" ||
  fail "the canary sidecars sent traffic to the failing origin" "none"
canary_failed="$(failed_builds "${CANARY_INDEXES[@]}")"
((canary_failed > 0)) && pass "builds through the canary sidecars failed ($canary_failed)" ||
  fail "builds through the canary sidecars failed" "$(tail -5 "$WORK/builds")"

config_rollout_undone Cluster "$clusters_before" "$sent_before" "the new cluster"

touch "$STOP"
wait "$TRAFFIC_PID" 2>/dev/null
_forget_pid "$TRAFFIC_PID"
assert_eq "no build through the other sidecars failed" 0 "$(failed_builds "${OTHER_INDEXES[@]}")"
bad_before="$(wc -l <"${O_LOG[BAD]}")"
for i in "${CANARY_INDEXES[@]}"; do
  split_paths "$WORK/after.paths" "after$i" 20
  PROXY_URL="${URLS[i]}" run_paths "$WORK/after.paths" 4 "$WORK/after.out"
  assert_eq "canary sidecar $i builds through the good origin again (all 404 from it)" 20 \
    "$(run_status_count 404)"
done
assert_eq "... and asks the failing origin nothing" "$bad_before" "$(wc -l <"${O_LOG[BAD]}")"
finish
