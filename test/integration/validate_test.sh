#!/usr/bin/env bash
# `modgate validate -c FILE` accepts the shipped example configuration and
# rejects broken ones with a non-zero exit and a message naming the field.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init --no-fixture

# The examples come through runfiles (//examples:configs); by hand, from the
# source tree. MODGATE_EXAMPLES_DIR overrides.
if [[ -n "${MODGATE_EXAMPLES_DIR:-}" ]]; then EXAMPLES="$MODGATE_EXAMPLES_DIR"
elif [[ -f "$INTEG_DIR/../../examples/basic.yaml" ]]; then EXAMPLES="$INTEG_DIR/../../examples"
else EXAMPLES="$REPO_ROOT/examples"; fi
BASIC="$EXAMPLES/basic.yaml"

# validate CASE WANT(ok|fail) FILE [NAMED_WORD]
validate() {
  local name="$1" want="$2" file="$3" word="${4:-}" rc
  timeout 30 "$MODGATE" validate -c "$file" >"$WORK/validate.out" 2>&1; rc=$?
  if ((rc == 124)); then fail "$name" "modgate validate hung (30 s)"; return; fi
  if [[ "$want" == ok ]]; then
    if ((rc == 0)); then pass "$name"; else
      fail "$name" "exit $rc"; show_tail "$WORK/validate.out" 15 output; fi
    return
  fi
  if ((rc == 0)); then fail "$name" "exit 0 for a broken config"; show_tail "$WORK/validate.out" 5 output; return; fi
  if ((rc >= 128)); then fail "$name" "killed by signal $((rc - 128)) (crash?)"; show_tail "$WORK/validate.out" 15 output; return; fi
  if [[ -n "$word" ]] && ! grep -qF -- "$word" "$WORK/validate.out"; then
    fail "$name" "exit $rc but the message does not name '$word': $(head -c 300 "$WORK/validate.out" | tr '\n' ' ')"
    return
  fi
  pass "$name: exit $rc: $(head -n 1 "$WORK/validate.out" | cut -c1-160)"
}

if [[ -f "$BASIC" ]]; then
  validate "modgate validate -c examples/basic.yaml succeeds" ok "$BASIC"
else
  skip "modgate validate -c examples/basic.yaml succeeds" "$BASIC does not exist yet"
fi

validate "a missing config file is an error" fail "$WORK/does-not-exist.yaml" "does-not-exist.yaml"

printf 'listen: [unclosed\n  : : :\n' >"$WORK/syntax.yaml"
validate "a YAML syntax error is an error" fail "$WORK/syntax.yaml"

: >"$WORK/empty.yaml"
timeout 30 "$MODGATE" validate -c "$WORK/empty.yaml" >/dev/null 2>&1; rc=$?
if ((rc < 128 && rc != 124)); then pass "an empty config does not crash validate (exit $rc)"; else
  fail "an empty config does not crash validate" "exit $rc"; fi

# Broken variants of the example: an unknown field, and nonsense values for
# fields it has. Each must fail and name the field.
if [[ -f "$BASIC" ]]; then
  { cat "$BASIC"; printf '\nno_such_field_xyzzy: 1\n'; } >"$WORK/unknown.yaml"
  validate "an unknown top-level field is rejected, naming it" fail "$WORK/unknown.yaml" no_such_field_xyzzy
  # Leaf fields of the example (at any depth) and a value each cannot accept;
  # the first occurrence of each is broken, one file per field.
  n=0
  for kv in 'listen=::not an address::' 'address=::not an address::' 'upstream=::not a url::' \
    'url=::not a url::' 'max_bytes=lots' 'concurrency=lots' 'list_ttl=soon' 'latest_ttl=soon' \
    'negative_ttl=soon' 'connect_timeout=soon'; do
    key="${kv%%=*}" bad="${kv#*=}"
    ln="$(grep -nE "^[[:space:]-]*$key:[[:space:]]*[^[:space:]#]" "$BASIC" | head -1 | cut -d: -f1)"
    [[ -n "$ln" ]] || continue
    sed -E "${ln}s/^([[:space:]-]*$key:)[^#]*/\1 \"$bad\" /" "$BASIC" >"$WORK/bad-$key.yaml"
    validate "$key: \"$bad\" is rejected, naming $key" fail "$WORK/bad-$key.yaml" "$key"
    n=$((n + 1))
  done
  ((n > 0)) || log "examples/basic.yaml has no field this test knows how to break"
  for f in "$EXAMPLES"/*.yaml; do
    [[ "$f" == "$BASIC" ]] && continue
    validate "modgate validate -c examples/$(basename "$f") succeeds" ok "$f"
  done
else
  printf 'no_such_field_xyzzy: 1\n' >"$WORK/unknown.yaml"
  validate "an unknown top-level field is rejected, naming it" fail "$WORK/unknown.yaml" no_such_field_xyzzy
fi
finish
