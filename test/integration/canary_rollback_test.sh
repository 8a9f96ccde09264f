#!/usr/bin/env bash
# Automatic rollback (issue 5): a rollout holds the canary at 50% with an
# error-ratio gate (max 5% over a 2 s window); midway the canary origin
# starts answering 500 to everything.
#   - The rollout rolls back to 0% by itself, on a window with enough
#     failures (>= min_requests, ratio over the limit), and /rollouts
#     records why; the delay is reported in evaluations and wall time.
#   - Throughout, clients see no error: a canary request that fails is
#     answered by stable (fallback_to_stable), counted against the canary.
#     Checked with continuous lb_client traffic from many builds and with
#     the go command, which (without the header, sticky by its loopback
#     address, i.e. by the node id "rollback-node" salted with the route
#     name "public": bucket 4693 of 10000) is on the canary side at 50%.
#   - After the rollback no request reaches the canary; a restart with a
#     healthy canary progresses again.
#   - A config reload keeps an unchanged rollout's state and history; a
#     changed rollout starts over.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/canary_lib.sh"
integ_init

BROKEN="$WORK/canary-broken"
start_named_origin S
start_named_origin C --fail-status 500 --fail-file "$BROKEN"

cfg="$WORK/rollback.yaml"
canary_config "$cfg" "stickiness: {header: x-build-id}" <<YAML
    rollout:
      canary_cluster: canary
      stages:
        - {weight: 50, min_duration: 600s}
        - {weight: 100}
      gates:
        - {metric: ERROR_RATIO, max: 0.05, window: 2s, min_requests: 20}
      evaluation_interval: 250ms
node: {id: rollback-node}
YAML
start_modgate -c "$cfg"

assert_eq "the rollout holds the canary at 50%" "progressing 50" \
  "$(rollout_field public state) $(rollout_field public canary_weight)"

# Healthy phase: the go command's requests reach the canary.
go_env healthy
cd "$GO_HOME/work" || die "cd"
go_download_sums "healthy canary: go mod download through the split" \
  github.com/google/uuid@v1.3.0 github.com/pkg/errors@v0.9.1
cd "$WORK" || die "cd"
go_on_canary="$(count_paths "${O_LOG[C]}" '^/github.com/(google/uuid|pkg/errors)/')"
((go_on_canary > 0)) && pass "the go command was on the canary side ($go_on_canary requests)" ||
  fail "the go command was on the canary side" "the canary origin saw none of its requests"

# Continuous traffic from many builds, in the background, until STOP exists.
STOP="$WORK/stop-traffic"
traffic() {
  local k=0
  while [[ ! -e "$STOP" ]] && ((k < 400)); do
    k=$((k + 1))
    split_paths "$WORK/bg$k.paths" "bg$k" 200 x-build-id
    run_paths "$WORK/bg$k.paths" 4 "$WORK/bg$k.out"
    echo "$RUN_JSON" >>"$WORK/bg.json"
  done
}
traffic &
TRAFFIC_PID=$!
_LIB_PIDS+=("$TRAFFIC_PID")
sleep 1

log "the canary starts failing"
fail_start_ms="$(date +%s%N)"
evaluations_before="$(rollout_field public evaluations)"
touch "$BROKEN"
# The go command during the failure: it must not notice.
go_env failing
cd "$GO_HOME/work" || die "cd"
go_download_sums "failing canary: go mod download still succeeds" \
  github.com/kr/text@v0.2.0 gopkg.in/yaml.v3@v3.0.1 &
GO_PID=$!
cd "$WORK" || die "cd"
if wait_until 60 rollout_is public rolled_back 0; then
  elapsed=$((($(date +%s%N) - fail_start_ms) / 1000000))
  pass "the rollout rolled back to 0% by itself"
  # What modgate controls: it rolls back at the first evaluation whose
  # window holds enough failures (Rollout's unit tests pin that down with a
  # fake clock). Here: the gate's values from the rolling-back evaluation
  # (a rolled-back rollout is not evaluated again) show a window with at
  # least min_requests and a ratio over the limit, and the delay is
  # reported, in the rollout's own evaluations (8 per 2 s window) and wall
  # time, as information. How many evaluations pass before the window holds
  # 20 canary requests depends on how fast the clients can send on a busy
  # machine (16 under a loaded CI run, about 2 on a quiet one); the bound
  # is only a deadline, 10 windows.
  evaluations=$(($(rollout_field public evaluations) - evaluations_before))
  gate="$(rollout_field public gates | python3 -c '
import json, sys
g = json.load(sys.stdin)[0]
print(g.get("verdict"), g.get("canary_requests"), g.get("canary_value"))')"
  read -r verdict n ratio <<<"$gate"
  if [[ "$verdict" == fail ]] && ((n >= 20)) && python3 -c "import sys; sys.exit(0 if $ratio > 0.05 else 1)"; then
    pass "rolled back on a full window: $n canary requests, error ratio $ratio > 0.05 (after $evaluations evaluations, ${elapsed} ms)"
  else fail "rolled back on a full window (>= 20 requests, ratio > 0.05)" "gate [$gate]"; fi
  ((evaluations <= 80)) && pass "rolled back within 10 evaluation windows ($evaluations evaluations of 250 ms)" ||
    fail "rolled back within 10 evaluation windows" "after $evaluations evaluations (${elapsed} ms)"
else
  fail "the rollout rolled back to 0% by itself" "still $(rollout_field public state) at $(rollout_field public canary_weight)%"
fi
wait "$GO_PID"
canary_500="$(awk '$3 == 500' "${O_LOG[C]}" | wc -l)"
((canary_500 > 0)) && pass "the canary answered 500 to $canary_500 requests" ||
  fail "the canary answered 500" "no 500 in its log"

sleep 1
touch "$STOP"
wait "$TRAFFIC_PID"
summary="$(python3 -c '
import json, sys
req = other = errors = 0
for line in open(sys.argv[1]):
    o = json.loads(line or "{}")
    req += o.get("requests", 0)
    errors += o.get("errors", 0)
    other += sum(v for k, v in o.get("status", {}).items() if k != "404")
print(req, other, errors)' "$WORK/bg.json")"
read -r bg_req bg_other bg_err <<<"$summary"
((bg_req >= 400)) && pass "background traffic: $bg_req requests" || fail "background traffic" "only $bg_req requests"
assert_eq "no client request failed during the failure (answers other than the origins' 404, connection errors)" \
  "0 0" "$bg_other $bg_err"

reason="$(rollout_field public history)"
assert_match "/rollouts history says the error-ratio gate failed" 'rolled_back.*error_ratio|error_ratio.*rolled_back' "$reason"
assert_eq "modgate_rollout_state{state=rolled_back} is 1" 1 \
  "$(prom_value modgate_rollout_state route=public state=rolled_back)"
assert_eq "modgate_rollout_canary_weight is 0" 0 "$(prom_value modgate_rollout_canary_weight route=public)"
assert_match "the rollback is logged" 'rollout on route public: .*-> rolled_back' "$(cat "$MODGATE_STDERR")"

before="$(wc -l <"${O_LOG[C]}")"
split_paths "$WORK/after.paths" after 1000 x-build-id
run_paths "$WORK/after.paths" 8 "$WORK/after.out"
assert_eq "after the rollback all 1000 requests are answered" 1000 "$(run_status_count 404)"
assert_eq "after the rollback the canary gets no request" "$before" "$(wc -l <"${O_LOG[C]}")"

# Restart with a healthy canary, once the failures aged out of the window.
rm -f "$BROKEN"
sleep 2.5
assert_eq "POST /rollout/restart answers 200" 200 "$(rollout_post restart public "canary fixed")"
split_paths "$WORK/again.paths" again 500 x-build-id
run_paths "$WORK/again.paths" 8 "$WORK/again.out"
sleep 0.6
assert_eq "restarted with a healthy canary: progressing at 50%" "progressing 50" \
  "$(rollout_field public state) $(rollout_field public canary_weight)"
((  $(count_paths "${O_LOG[C]}" '^/example.com/again/') > 150 )) &&
  pass "the restarted canary takes traffic again" || fail "the restarted canary takes traffic again" "too few requests"

# Reloads: an unchanged rollout keeps its state and history; a changed one
# starts over.
hist_len() { rollout_field public history | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'; }
before_len="$(hist_len)"
echo "# an unrelated change" >>"$cfg"
wait_until 60 reloads_are 1 && pass "a comment-only edit was reloaded" || fail "a comment-only edit was reloaded" "reloads: $(prom_value modgate_config_reload_total result=success)"
assert_eq "an unchanged rollout keeps its state and history across the reload" "progressing 50 $before_len" \
  "$(rollout_field public state) $(rollout_field public canary_weight) $(hist_len)"
sed -i 's/{weight: 50, min_duration: 600s}/{weight: 30, min_duration: 600s}/' "$cfg"
wait_until 60 reloads_are 2 && pass "a changed rollout was reloaded" || fail "a changed rollout was reloaded" "reloads: $(prom_value modgate_config_reload_total result=success)"
assert_eq "a changed rollout starts over at its new stage 0 (30%)" "progressing 30 1" \
  "$(rollout_field public state) $(rollout_field public canary_weight) $(hist_len)"

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
