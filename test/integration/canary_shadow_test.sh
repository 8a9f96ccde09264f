#!/usr/bin/env bash
# Shadowing (issue 5): a canary origin serves a tampered zip for one module
# version. The rollout starts with a shadow-only stage (weight 0) and a
# content-mismatch gate; every cache fill of an immutable artifact is also
# fetched from the canary and the two bodies' SHA-256 compared.
#   - The go command's download succeeds with the right sums: clients are
#     served by stable, and never wait for the (slow) shadow.
#   - The tampered zip is reported as a mismatch with its module and
#     version (log line, modgate_shadow_comparisons_total{result}); the
#     untouched artifacts match.
#   - The content gate fails on it and the rollout rolls back from the
#     shadow-only stage: no client was ever sent to the canary.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/canary_lib.sh"
integ_init

TAMPERED=github.com/pkg/errors
TAMPERED_V=v0.9.1
tree="$WORK/canary-tree"
copy_fixture "$tree" || die "cannot copy the fixture"
zip="$tree/$TAMPERED/@v/$TAMPERED_V.zip"
# Replace (never write through a hard link into the shared fixture).
cp "$zip" "$zip.orig" && rm -f "$zip" && cp "$zip.orig" "$zip" && rm -f "$zip.orig" &&
  printf 'tampered' >>"$zip" || die "cannot tamper $zip"
cmp -s "$zip" "$FIXTURE/$TAMPERED/@v/$TAMPERED_V.zip" && die "tampering did not change the zip"

start_named_origin S
# The canary answers 5 s late: a client waiting for the shadow would show.
start_named_origin C --root "$tree" --delay-ms 5000

cfg="$WORK/shadow.yaml"
canary_config "$cfg" <<YAML
    rollout:
      canary_cluster: canary
      stages:
        - {weight: 0, min_duration: 600s}
        - {weight: 100}
      gates:
        - {metric: CONTENT_MISMATCH, max: 0}
      evaluation_interval: 250ms
    shadow: {percent: 100}
YAML
start_modgate -c "$cfg"

assert_eq "the rollout starts in its shadow-only stage" "progressing 0" \
  "$(rollout_field public state) $(rollout_field public canary_weight)"

t0="$(date +%s%N)"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 "$PROXY_URL/github.com/google/uuid/@v/v1.3.0.mod")"
ms=$((($(date +%s%N) - t0) / 1000000))
# Ordering, not a time bound: when the client has its answer, the shadow's
# answer has not arrived yet (the canary origin logs a request once it has
# answered it, and no comparison has been counted).
shadow_answered="$(count_paths "${O_LOG[C]}" '^/github.com/google/uuid/@v/v1.3.0.mod$')"
compared="$(prom_value modgate_shadow_comparisons_total route=public)"
assert_eq "a shadowed cache fill is answered" 200 "$code"
assert_eq "the client did not wait for the 5 s shadow (answered in ${ms} ms, before the shadow's answer and its comparison)" \
  "0 0" "$shadow_answered $compared"

go_env shadow
cd "$GO_HOME/work" || die "cd"
go_download_sums "go mod download through the shadowed route gets stable's bytes" \
  github.com/google/uuid@v1.3.0 "$TAMPERED@$TAMPERED_V" github.com/kr/text@v0.2.0
cd "$WORK" || die "cd"

if wait_until 60 rollout_is public rolled_back 0; then
  pass "the content gate rolled the rollout back"
else
  fail "the content gate rolled the rollout back" "still $(rollout_field public state)"
fi
assert_eq "exactly one mismatch counted" 1 "$(prom_value modgate_shadow_comparisons_total route=public result=mismatch)"
# Shadows of the other artifacts may still be arriving (5 s each).
matches_at_least() { matches="$(prom_value modgate_shadow_comparisons_total route=public result=match)"; ((matches >= $1)); }
wait_until 60 matches_at_least 7
((matches >= 7)) && pass "the untouched artifacts matched ($matches comparisons)" ||
  fail "the untouched artifacts matched" "only $matches matches"
assert_match "the mismatch is logged with module, version and both digests" \
  "shadow mismatch on route public: $TAMPERED@$TAMPERED_V\\.zip served sha256 [0-9a-f]{64}, shadow sha256 [0-9a-f]{64}" \
  "$(cat "$MODGATE_STDERR")"
hist="$(rollout_field public history)"
assert_match "the rollback reason names the content gate" 'content_mismatch' "$hist"
never="$(python3 -c '
import json, sys
print(max([0] + [h.get("to_weight", 0) for h in json.loads(sys.argv[1] or "[]")]))' "$hist")"
assert_eq "the canary weight never rose above 0 (no client got its bytes)" 0 "$never"
assert_eq "the canary was asked for the tampered zip (as a shadow)" 1 \
  "$(count_paths "${O_LOG[C]}" "^/$TAMPERED/@v/$TAMPERED_V.zip$")"
cached="$(curl -s --max-time 10 "$PROXY_URL/$TAMPERED/@v/$TAMPERED_V.zip" | sha256sum | cut -d' ' -f1)"
assert_eq "the cached zip is stable's" "$(sha256sum <"$FIXTURE/$TAMPERED/@v/$TAMPERED_V.zip" | cut -d' ' -f1)" "$cached"

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
