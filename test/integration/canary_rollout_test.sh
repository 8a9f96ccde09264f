#!/usr/bin/env bash
# A staged rollout from a stable origin to a healthy canary origin
# (issue 5): stages 10% -> 50% -> 100% with an error-ratio gate, clients
# sticky by an x-build-id header.
#   - At each stage (held with /rollout/pause while measuring) 2,000
#     uncached requests from 2,000 builds split within ±3 points of the
#     weight, counted in each origin's own request log.
#   - Stickiness: a build sent to the canary at 10% is still there at 50%.
#   - Between measurements the rollout advances by itself once the stage's
#     minimum duration passed and its gate passed, and completes at 100%.
#   - The pin header sends a request to stable even at 100%.
#   - /rollouts history and the rollout metrics agree.
#   - The runtime key rollouts.public.stage holds the rollout at a stage
#     (the split follows), refuses a stage out of range, and resumes when
#     removed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/canary_lib.sh"
integ_init

N="${CANARY_SPLIT_REQUESTS:-2000}"
start_named_origin S
start_named_origin C

cfg="$WORK/rollout.yaml"
canary_config "$cfg" "stickiness: {header: x-build-id}" <<YAML
    rollout:
      canary_cluster: canary
      stages:
        - {weight: 10, min_duration: 3s}
        # 30 s: drive_until must see stage 1 (and pause it) before it may
        # move on, however slowly a busy machine runs the test's loop.
        - {weight: 50, min_duration: 30s}
        - {weight: 100}
      gates:
        # A 30 s window: 50 canary requests at 10% is 500 requests, which
        # the clients send in a few seconds on a quiet machine and in far
        # more on a busy one; the gate must get its data either way.
        - {metric: ERROR_RATIO, max: 0.05, window: 30s, min_requests: 50}
      evaluation_interval: 200ms
YAML
start_modgate -c "$cfg"

# measure TAG WEIGHT: one batch of N builds; canary share within ±3 points.
measure() {
  local tag="$1" weight="$2" s c
  split_paths "$WORK/$tag.paths" "$tag" "$N" x-build-id
  run_paths "$WORK/$tag.paths" 8 "$WORK/$tag.out"
  assert_eq "$tag: all $N requests answered by an origin (404) ($RUN_JSON)" "$N" "$(run_status_count 404)"
  s="$(count_paths "${O_LOG[S]}" "^/example.com/$tag/")"
  c="$(count_paths "${O_LOG[C]}" "^/example.com/$tag/")"
  share_check "$tag: stable/canary split follows weight $weight% within ±3 points" 3 \
    "stable=$s=$((100 - weight))" "canary=$c=$weight"
}

# canary_builds TAG: the build numbers the canary origin saw in batch TAG.
canary_builds() {
  awk -v re="^/example.com/$1/b" '$2 ~ re { sub(re, "", $2); sub("/.*", "", $2); print $2 }' \
    "${O_LOG[C]}" | sort
}

# drive_until CASE SECS STATE [STAGE]: send small batches of traffic until
# the rollout is in STATE (at STAGE), then pause it if it is progressing.
drive_until() {
  local name="$1" secs="$2" state="$3" stage="${4:-}" k=0 start=$SECONDS
  while ((SECONDS - start < secs)); do
    if [[ "$(rollout_field public state)" == "$state" &&
      (-z "$stage" || "$(rollout_field public stage)" == "$stage") ]]; then
      [[ "$state" == progressing ]] && rollout_post pause public "measuring" >/dev/null
      pass "$name (after $((SECONDS - start)) s)"
      return 0
    fi
    k=$((k + 1))
    split_paths "$WORK/warm$k.paths" "warm-$stage-$k" 100 x-build-id
    run_paths "$WORK/warm$k.paths" 4 "$WORK/warm$k.out"
  done
  fail "$name" "rollout is $(rollout_field public state) at stage $(rollout_field public stage) after ${secs}s"
  return 1
}

assert_eq "the rollout starts progressing at stage 0" "progressing" "$(rollout_field public state)"
assert_eq "POST /rollout/pause answers 200" 200 "$(rollout_post pause public measuring)"
assert_eq "paused at 10%" "paused 10" "$(rollout_field public state) $(rollout_field public canary_weight)"
assert_eq "a second pause is refused with 409" 409 "$(rollout_post pause public again)"
assert_eq "an unknown route is 404" 404 "$(rollout_post pause nosuchroute)"
measure s10 10

assert_eq "resume answers 200" 200 "$(rollout_post resume public)"
drive_until "the rollout advanced by itself to stage 1 (50%)" 180 progressing 1
measure s50 50
missing="$(comm -23 <(canary_builds s10 | sort) <(canary_builds s50 | sort) | wc -l)"
assert_eq "every build on the canary at 10% is still on it at 50% (sticky, monotonic)" 0 "$missing"
same="$(comm -12 <(canary_builds s10 | sort) <(canary_builds s50 | sort) | wc -l)"
log "builds on canary at 10%: $(canary_builds s10 | wc -l), at 50%: $(canary_builds s50 | wc -l), both: $same"

assert_eq "resume answers 200" 200 "$(rollout_post resume public)"
drive_until "the rollout completed by itself at 100%" 180 completed
measure s100 100

code="$(curl -s -o /dev/null -w '%{http_code}' -H 'x-modgate-canary: stable' -H 'x-build-id: build-1' \
  "$PROXY_URL/example.com/pinned/@v/list")"
assert_eq "a pinned request is answered" 404 "$code"
assert_eq "the pin header sends it to stable at 100%" "1 0" \
  "$(count_paths "${O_LOG[S]}" '^/example.com/pinned/') $(count_paths "${O_LOG[C]}" '^/example.com/pinned/')"

hist="$(rollout_field public history)"
assert_match "history records the automatic advances and completion" \
  '"to_state": ?"completed"' "$hist"
assert_eq "modgate_rollout_canary_weight is 100" 100 "$(prom_value modgate_rollout_canary_weight route=public)"
assert_eq "modgate_rollout_state{state=completed} is 1" 1 \
  "$(prom_value modgate_rollout_state route=public state=completed)"
assert_eq "a completed rollout cannot be paused (409)" 409 "$(rollout_post pause public)"


# The runtime knob rollouts.<route>.stage holds the rollout at a stage.
rt() { curl -s -o "$WORK/rt.body" -w '%{http_code}' --max-time 5 -X POST "$ADMIN_URL/runtime?$1"; }
assert_eq "runtime rollouts.public.stage=7 is refused (3 stages)" 400 "$(rt rollouts.public.stage=7)"
assert_match "the 400 names the key and the range" 'rollouts.public.stage: stage 7 out of range .*0..2' "$(cat "$WORK/rt.body")"
assert_eq "runtime rollouts.public.stage=1 answers 200" 200 "$(rt rollouts.public.stage=1)"
assert_eq "the runtime hold puts the rollout at stage 1, paused, 50%" "paused 1 50" \
  "$(rollout_field public state) $(rollout_field public stage) $(rollout_field public canary_weight)"
measure hold50 50
assert_eq "removing the runtime key resumes the rollout" 200 "$(rt rollouts.public.stage=)"
# Stage 1's minimum time has passed and its gate passes: it may move on at once.
assert_match "resumed: no longer held (progressing from stage 1 on, or completed)" \
  '^(progressing [12]|completed 2)$' "$(rollout_field public state) $(rollout_field public stage)"

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
