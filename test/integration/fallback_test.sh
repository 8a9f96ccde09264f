#!/usr/bin/env bash
# GOPROXY list semantics of --upstream, end to end with two origins:
#   A,B  a module A lacks (404) is fetched from B, after asking A;
#        A failing with 500 is an error: modgate answers 5xx, B is not asked;
#   A|B  A failing with 500 falls through to B and the download succeeds.
# And a config route with direct_response 403 for a prefix: the go command
# fails on a module under it and prints modgate's reason.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing (apt-get install golang-go)"

GONE=github.com/pkg/errors          # removed from origin A's tree
GONE_V=v0.9.1
BOTH=github.com/google/uuid         # in both trees
BOTH_V=v1.3.0
FAILING=github.com/kr/text          # origin A answers 500 for it in cases 2 and 3
FAILING_V=v0.2.0

# Origin A's tree: the fixture (hard links where possible), minus one module.
reduced="$WORK/origin-reduced"
rm -rf "$reduced"
copy_fixture "$reduced" || die "cannot copy the fixture to $reduced"
rm -rf "${reduced:?}/$GONE"
[[ ! -e "$reduced/$GONE" && -d "$reduced/$BOTH" ]] || die "reduced tree not as expected"

# ---- 1. A,B: 404 from A falls through to B ---------------------------------
start_origin --root "$reduced"
A_URL="$ORIGIN_URL" A_LOG="$ORIGIN_LOG"
start_origin
B_URL="$ORIGIN_URL" B_LOG="$ORIGIN_LOG"
start_modgate --upstream "$A_URL,$B_URL" --cache-dir "$WORK/cache1"

go_env comma
cd "$GO_HOME/work" || die "no work dir"
go_download_sums "A,B: go mod download $GONE@$GONE_V (absent from A) succeeds, sum matches" "$GONE@$GONE_V"

# Every artifact of the missing module: A asked first (404), then B (200).
for ext in info mod zip; do
  p="/$GONE/@v/$GONE_V.$ext"
  a="$(awk -v p="$p" '$2 == p { print $3 }' "$A_LOG" | tr '\n' ' ')"
  b="$(awk -v p="$p" '$2 == p { print $3 }' "$B_LOG" | tr '\n' ' ')"
  if [[ "$a" == "404 " && "$b" == "200 " ]]; then
    pass "A,B: $p asked of A (404) then B (200)"
  else
    fail "A,B: $p asked of A (404) then B (200)" "A answered [${a}], B answered [${b}]"
  fi
done

go_download_sums "A,B: go mod download $BOTH@$BOTH_V (in both) succeeds" "$BOTH@$BOTH_V"
n_b="$(origin_count "^/$BOTH/" "$B_LOG")"
n_a="$(origin_count "^/$BOTH/@v/$BOTH_V\\.(info|mod|zip)$" "$A_LOG")"
if [[ "$n_b" == 0 && "$n_a" -ge 2 ]]; then
  pass "A,B: a module A has is served from A alone (A: $n_a requests, B: 0)"
else
  fail "A,B: a module A has is served from A alone" "A asked $n_a times, B asked $n_b times; A: $(origin_lines "^/$BOTH/" "$A_LOG" | head -4 | tr '\n' ';') B: $(origin_lines "^/$BOTH/" "$B_LOG" | head -4 | tr '\n' ';')"
fi
stop_modgate

# ---- 2. A,B with A answering 500: an error, B not asked --------------------
start_origin --root "$reduced" --fail-status 500 --fail-regex "^/$FAILING/"
A2_URL="$ORIGIN_URL" A2_LOG="$ORIGIN_LOG"
: >"$B_LOG"
start_modgate --upstream "$A2_URL,$B_URL" --cache-dir "$WORK/cache2"

p="/$FAILING/@v/$FAILING_V.info"
code="$(http_get "$PROXY_URL$p")"
body="$(head -c 300 "$WORK/last.body" | tr '\n' ' ')"
assert_match "A,B, A answers 500: GET $p is a 5xx (got $code: $body)" '^5[0-9][0-9]$' "$code"
assert_eq "A,B, A answers 500: A was asked for $p" 1 "$(origin_requests "$p" "$A2_LOG")"
n="$(origin_count "^/$FAILING/" "$B_LOG")"
assert_eq "A,B, A answers 500: B was not asked" 0 "$n"
((n == 0)) || origin_lines "^/$FAILING/" "$B_LOG" | head -3 | sed 's/^/    B: /'

go_env comma500
cd "$GO_HOME/work" || die "no work dir"
if timeout -k 5 120 go mod download -json "$FAILING@$FAILING_V" >"$WORK/dl500.json" 2>"$WORK/dl500.err"; then
  fail "A,B, A answers 500: go mod download $FAILING@$FAILING_V fails" "it succeeded"
else
  pass "A,B, A answers 500: go mod download $FAILING@$FAILING_V fails ($(grep -o '"Error": *"[^"]*' "$WORK/dl500.json" | head -1 | cut -c1-160))"
fi
assert_eq "A,B, A answers 500: B still not asked after go mod download" 0 "$(origin_count "^/$FAILING/" "$B_LOG")"
stop_modgate

# ---- 3. A|B with A answering 500: B is asked, the download succeeds --------
: >"$B_LOG"
: >"$A2_LOG"
start_modgate --upstream "$A2_URL|$B_URL" --cache-dir "$WORK/cache3"
go_env pipe500
cd "$GO_HOME/work" || die "no work dir"
go_download_sums "A|B, A answers 500: go mod download $FAILING@$FAILING_V succeeds, sum matches" "$FAILING@$FAILING_V"
for ext in info mod zip; do
  p="/$FAILING/@v/$FAILING_V.$ext"
  a="$(awk -v p="$p" '$2 == p { print $3 }' "$A2_LOG" | tr '\n' ' ')"
  b="$(awk -v p="$p" '$2 == p { print $3 }' "$B_LOG" | tr '\n' ' ')"
  if [[ "$a" =~ ^(500\ )+$ && "$b" == "200 " ]]; then
    pass "A|B: $p asked of A (500) then B (200)"
  else
    fail "A|B: $p asked of A (500) then B (200)" "A answered [${a}], B answered [${b}]"
  fi
done
code="$(http_get "$PROXY_URL/$FAILING/@v/$FAILING_V.mod")"
assert_eq "A|B: the .mod fetched from B is now a cache HIT" "200 HIT" "$code $(header X-Cache)"
stop_modgate

# ---- 4. direct_response 403 for a prefix ------------------------------------
REASON="modules under github.com/spf13/ are blocked by policy"
cfg="$WORK/deny.yaml"
cat >"$cfg" <<EOF
clusters:
  - name: origin_b
    endpoints:
      - url: $B_URL
routes:
  - name: deny_spf13
    match:
      prefix: github.com/spf13/
    direct_response:
      status: 403
      body: "$REASON"
  - name: rest
    cluster: origin_b
EOF
: >"$B_LOG"
start_modgate -c "$cfg" --cache-dir "$WORK/cache4"

p="/github.com/spf13/pflag/@v/v1.0.5.info"
code="$(http_get "$PROXY_URL$p")"
body="$(tr -d '\r' <"$WORK/last.body" | head -c 300)"
if [[ "$code" == 403 && "$body" == *"$REASON"* ]]; then pass "direct_response: GET $p is 403 with the configured body"
else fail "direct_response: GET $p is 403 with the configured body" "status $code, body [$body]"; fi

go_env deny
cd "$GO_HOME/work" || die "no work dir"
if timeout -k 5 120 go mod download github.com/spf13/pflag@v1.0.5 >"$WORK/deny.out" 2>&1; then
  fail "direct_response: go mod download github.com/spf13/pflag@v1.0.5 fails" "it succeeded"
else
  if grep -qF "$REASON" "$WORK/deny.out"; then
    pass "direct_response: go mod download github.com/spf13/pflag@v1.0.5 fails and prints the reason"
  else
    fail "direct_response: go mod download of a denied module prints the reason" "go output lacks [$REASON]"
    show_tail "$WORK/deny.out" 10 "go output"
  fi
fi
assert_eq "direct_response: the origin was never asked for github.com/spf13/" 0 "$(origin_count '^/github.com/spf13/' "$B_LOG")"
go_download_sums "direct_response: a module outside the prefix still downloads" "$BOTH@$BOTH_V"

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
