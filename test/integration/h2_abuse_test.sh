#!/usr/bin/env bash
# HTTP/2 abuse limits (issue 11, part 5): each attack client (h2_attack.py,
# Python hyperframe/hpack) runs while a normal client asks for a module
# at the same time; the attacker's connection must end with GOAWAY, the
# normal client must get every answer, and modgate must stay up.
# Correctness only: no timing is asserted.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init
command -v nghttp >/dev/null || die "nghttp is missing"
PY=/usr/bin/python3
"$PY" -c 'import hyperframe, hpack' 2>/dev/null || die "python3-hyperframe/python3-hpack are missing"
start_origin
start_modgate
p=/github.com/google/uuid/@v/v1.3.0.info
code="$(http_get "$PROXY_URL$p")"
assert_eq "warm-up: $p is 200" 200 "$code"

# normal_client N OUT: N h2c requests, one status per line.
normal_client() {
  local i
  for ((i = 0; i < $1; i++)); do
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 --http2-prior-knowledge "$PROXY_URL$p"
  done >"$2"
}

for attack in rapid_reset continuation settings; do
  normal_client 30 "$WORK/normal.$attack" &
  normal=$!
  result="$(timeout 120 "$PY" "$INTEG_DIR/h2_attack.py" "$MODGATE_PORT" "$attack" "$p" 2>&1)"
  wait "$normal"
  if [[ "$result" == goaway* ]]; then
    pass "$attack: the attacker's connection gets GOAWAY (${result#goaway })"
  else fail "$attack" "attacker saw [$result]"; fi
  good="$(grep -c '^200$' "$WORK/normal.$attack")"
  assert_eq "$attack: a normal client at the same time gets all 30 answers (200)" 30 "$good"
done
modgate_alive && pass "modgate is alive after the attacks" || fail "modgate alive" "it exited"
code="$(http_get "$PROXY_URL$p")"
assert_eq "and still serves" 200 "$code"
finish
