#!/usr/bin/env bash
# The fleet-wide gray release (issue 10, section 4): one control plane, 4
# sidecars (--concurrency 1) with no routes of their own; the desired config
# has a route "public" splitting "stable" (origin S) and "canary" (origin
# C) with a rollout, which the control plane runs for the whole fleet.
#   - Every sidecar is told the rollout's weight (its /rollouts shows the
#     control plane, state, stage and weight) and reports its outcomes; the
#     control plane's /rollouts shows the fleet's aggregates.
#   - The new proxy answers 500: the control plane rolls the whole fleet
#     back to 0% on the fleet's error ratio; every sidecar is told (each
#     ACKs the new version); builds through the sidecars never see an error
#     (fallback to stable) and `go mod download` verifies every checksum.
#   - With a healthy new proxy the fleet reaches 100%; go mod download
#     through a sidecar, now served by the canary, verifies every checksum.
# Every wait is for an event (a state in /rollouts), with a generous
# deadline.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/canary_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cp_lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing (apt-get install golang-go)"

NODES=4
BROKEN="$WORK/canary-broken"
touch "$BROKEN"
start_named_origin S
start_named_origin C --fail-status 500 --fail-file "$BROKEN"

CP_DESIRED="$WORK/desired"
mkdir -p "$CP_DESIRED"
write_cp_config "$WORK/cp.yaml" "$CP_DESIRED"
CP_ADMIN_URL="http://127.0.0.1:$CP_ADMIN_PORT"
cp_desired_rollout "[{weight: 50, min_duration: 600s}, {weight: 100}]"
start_cp

start_sidecars "$NODES" rollout-pod
fleet_view() { cp_rollout_field public fleet; }

if wait_until 60 fleet_told progressing 50; then
  pass "every sidecar was told the fleet rollout: progressing at 50%, controlled by the control plane"
else
  fail "every sidecar was told the fleet rollout" "$(sidecars_rollouts | head -c 2000)"
fi
assert_eq "the control plane's /rollouts: progressing at 50%" "progressing 50" \
  "$(cp_rollout_field public state) $(cp_rollout_field public canary_weight)"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "${ADMINS[0]}/rollout/advance?route=public")"
assert_eq "a sidecar refuses to drive the control plane's rollout (409)" 409 "$code"

# Continuous traffic from many builds through every sidecar, in the
# background, until STOP exists.
STOP="$WORK/stop-traffic"
fleet_traffic &
TRAFFIC_PID=$!
_LIB_PIDS+=("$TRAFFIC_PID")

# The go command through a sidecar during the failure.
PROXY_URL="${URLS[1]}"
go_env failing
cd "$GO_HOME/work" || die "cd"
go_download_sums "failing canary: go mod download through a sidecar succeeds, every sum matches" \
  github.com/google/uuid@v1.3.0 github.com/pkg/errors@v0.9.1 &
GO_PID=$!
cd "$WORK" || die "cd"

if wait_until 120 cp_rollout_is public rolled_back 0; then
  pass "the control plane rolled the fleet back to 0% on the fleet's reports"
  # The gate's values from the rolling-back evaluation (a rolled-back
  # rollout is not evaluated again): the fleet's canary window held enough
  # requests and too many errors.
  gate="$(cp_rollout_field public gates | python3 -c '
import json, sys
g = json.load(sys.stdin)[0]
print(g.get("verdict"), g.get("canary_requests"), g.get("canary_value"))')"
  read -r verdict n ratio <<<"$gate"
  if [[ "$verdict" == fail ]] && ((n >= 20)) && python3 -c "import sys; sys.exit(0 if $ratio > 0.05 else 1)"; then
    pass "rolled back on the fleet's window: $n canary requests, error ratio $ratio > 0.05 (after ${WAITED_MS} ms)"
  else fail "rolled back on the fleet's window (>= 20 requests, ratio > 0.05)" "gate [$gate]"; fi
else
  fail "the control plane rolled the fleet back" "$(curl -s --max-time 5 "$CP_ADMIN_URL/rollouts" | head -c 3000)"
fi
if wait_until 60 fleet_told rolled_back 0; then
  pass "every sidecar was told: rolled_back at 0%"
else
  fail "every sidecar was told: rolled_back at 0%" "$(sidecars_rollouts | head -c 2000)"
fi
view="$(fleet_view)"
reporting="$(python3 -c 'import json, sys; print(json.loads(sys.argv[1]).get("nodes_reporting", 0))' "$view")"
assert_eq "the fleet view counts every sidecar reporting" "$NODES" "$reporting"
acked() { python3 -c 'import json, sys; v = json.loads(sys.argv[1]); sys.exit(0 if v.get("nodes_acked") == v.get("nodes_connected") == int(sys.argv[2]) else 1)' "$(fleet_view)" "$NODES"; }
if wait_until 60 acked; then pass "every connected sidecar ACKed the rolled-back version"; else
  fail "every sidecar ACKed the rolled-back version" "$(fleet_view)"; fi
assert_match "/rollouts history: rolled back because the error-ratio gate failed" \
  'gate failed: error_ratio' "$(cp_rollout_field public history)"
assert_eq "modgate_rollout_state{state=rolled_back} on the control plane is 1" 1 \
  "$(ADMIN_URL="$CP_ADMIN_URL" prom_value modgate_rollout_state route=public state=rolled_back)"
wait "$GO_PID" || true
touch "$STOP"
wait "$TRAFFIC_PID"
read -r bg_req bg_other bg_err <<<"$(traffic_summary "$WORK/bg.json")"
((bg_req >= 100)) && pass "background traffic: $bg_req requests" || fail "background traffic" "only $bg_req requests"
assert_eq "no build request failed while the canary answered 500 (fallback to stable)" "0 0" "$bg_other $bg_err"
canary_500="$(awk '$3 == 500' "${O_LOG[C]}" | wc -l)"
((canary_500 > 0)) && pass "the canary answered 500 to $canary_500 requests" ||
  fail "the canary answered 500" "no 500 in its log"

# A healthy new proxy: a changed rollout starts over and reaches 100%.
rm -f "$BROKEN"
rm -f "$STOP" "$WORK/bg.json"
cp_desired_rollout "[{weight: 25, min_duration: 1s}, {weight: 50, min_duration: 1s}, {weight: 100}]"
fleet_traffic &
TRAFFIC_PID=$!
_LIB_PIDS+=("$TRAFFIC_PID")
if wait_until 180 cp_rollout_is public completed 100; then
  pass "with a healthy canary the fleet rollout completed at 100%"
else
  fail "with a healthy canary the fleet rollout completed" "$(curl -s --max-time 5 "$CP_ADMIN_URL/rollouts" | head -c 3000)"
fi
if wait_until 60 fleet_told completed 100; then
  pass "every sidecar was told: completed at 100%"
else
  fail "every sidecar was told: completed at 100%" "$(sidecars_rollouts | head -c 2000)"
fi
touch "$STOP"
wait "$TRAFFIC_PID"
read -r bg_req bg_other bg_err <<<"$(traffic_summary "$WORK/bg.json")"
assert_eq "no build request failed during the healthy rollout" "0 0" "$bg_other $bg_err"
assert_match "the history passes through 25% and 50%" '"to_weight": *25.*"to_weight": *50.*"to_weight": *100' \
  "$(cp_rollout_field public history)"

before="$(count_paths "${O_LOG[C]}" '^/github.com/kr/text/')"
PROXY_URL="${URLS[2]}"
go_env healthy
cd "$GO_HOME/work" || die "cd"
go_download_sums "at 100%: go mod download through a sidecar, every sum matches" \
  github.com/BurntSushi/toml@v1.2.0 github.com/kr/text@v0.2.0
cd "$WORK" || die "cd"
after="$(count_paths "${O_LOG[C]}" '^/github.com/kr/text/')"
((after > before)) && pass "at 100% the go command is served by the new proxy" ||
  fail "at 100% the go command is served by the new proxy" "the canary origin saw none of its requests"
finish
