#!/usr/bin/env bash
# Nothing unverified enters the cache (issue 11, part 4), end to end with the
# fixture's real signed checksum database (sumdbs[].key):
#   origin T serves the fixture with one zip tampered (a file renamed in the
#   central directory: still a valid zip, another h1: hash) and one go.mod
#   rewritten; origin G serves the good fixture;
#   - route [T | G]: go mod download of the tampered module succeeds with the
#     right sum, the good zip is what is cached, T's bad one never is, and T's
#     host is counted as failing (ejected with consecutive_gateway_failure 1);
#   - route [T] alone: the zip and the .mod are 502 with a reason naming both
#     hashes, nothing is cached, each request asks T again;
#   - nosum (GONOSUMDB syntax) skips the check;
#   - modgate verify-cache (admin POST /verify_cache) removes the tampered
#     zip that nosum let in once nosum is gone, and keeps the good ones;
#   - sumdbs[].stream_while_verifying: the tampered zip streams to its
#     client and breaks off (never a complete body), nothing is cached; with
#     [T | G] the first go command fails, G's zip is cached for the retry;
#     a good zip streams complete;
#   - go mod download of every module version of the fixture verifies, each
#     zip hashed as it streamed (no file pass); the tampered one (local
#     header and central directory disagree) falls back to the file pass.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing (apt-get install golang-go)"

MOD=github.com/pkg/errors
ZIP_V=v0.9.1      # its zip is tampered with
MOD_V=v0.8.1      # its go.mod is tampered with
GOOD_ZIP_SUM="$(fixture_sum "$MOD" "$ZIP_V")"
BAD_ZIP_SUM="h1:J/3p0L/X4misjQOMIx6IjUo8C7q7lA/S30P3TujMPUI="   # fixtures README

tampered="$WORK/origin-tampered"
copy_fixture "$tampered" || die "cannot copy the fixture"
python3 - "$tampered/$MOD/@v/$ZIP_V.zip" <<'EOF' || die "cannot tamper with the zip"
import os, sys
p = sys.argv[1]
d = bytearray(open(p, 'rb').read())
i = d.rfind(b'github.com/pkg/errors@v0.9.1/stack.go') + len('github.com/pkg/errors@v0.9.1/')
d[i] ^= 1                                   # stack.go -> rtack.go
os.unlink(p)                                # a hard link to the fixture: replace, never write
open(p, 'wb').write(d)
EOF
rm -f "$tampered/$MOD/@v/$MOD_V.mod"
printf 'module %s\n\n// changed after the checksum database signed it\n' "$MOD" >"$tampered/$MOD/@v/$MOD_V.mod"

start_origin --root "$tampered"
T_URL="$ORIGIN_URL" T_LOG="$ORIGIN_LOG"
start_origin
G_URL="$ORIGIN_URL" G_LOG="$ORIGIN_LOG"

config() { # FILE STEPS_YAML [EXTRA_YAML]
  cat >"$1" <<EOF
clusters:
  - name: tampered
    endpoints:
      - url: $T_URL
    outlier_detection:
      consecutive_gateway_failure: 1
      enforcing_consecutive_gateway_failure: 100
      base_ejection_time: 300s
      max_ejection_percent: 100
  - name: good
    endpoints:
      - url: $G_URL
routes:
  - name: all
$2
sumdbs:
  - name: $GOSUMDB_NAME
    key: $GOSUMDB_KEY
${3:-}
EOF
}

prom() { # METRIC LABEL_SUBSTRING: the value, or 0
  curl -s --max-time 5 "$ADMIN_URL/stats/prometheus" |
    awk -v m="$1" -v l="$2" 'index($0, m) == 1 && index($0, l) { v = $NF } END { print v + 0 }'
}

# ---- 1. [T | G]: the lie is caught, the truth is served and cached -----------
config "$WORK/fallback.yaml" "    fallback:
      steps:
        - cluster: tampered
          on: ANY_ERROR
        - cluster: good"
start_modgate -c "$WORK/fallback.yaml" --cache-dir "$WORK/cache1"
go_env fallback
cd "$GO_HOME/work" || die "no work dir"
go_download_sums "[T|G]: go mod download $MOD@$ZIP_V verifies (T's zip rejected, G's served)" "$MOD@$ZIP_V"
zip_path="/$MOD/@v/$ZIP_V.zip"
assert_eq "[T|G]: T was asked for the zip once" 1 "$(origin_requests "$zip_path" "$T_LOG")"
assert_eq "[T|G]: G was asked for the zip once" 1 "$(origin_requests "$zip_path" "$G_LOG")"
if grep -q "checksum mismatch for $MOD@$ZIP_V (zip): downloaded $BAD_ZIP_SUM, $GOSUMDB_NAME has $GOOD_ZIP_SUM" "$MODGATE_STDERR"; then
  pass "[T|G]: the mismatch is logged with both hashes"
else fail "[T|G]: the mismatch is logged with both hashes" "$(grep -i mismatch "$MODGATE_STDERR" | head -2)"; fi
code="$(http_get "$PROXY_URL$zip_path" "$WORK/zip.body" -D "$WORK/zip.headers")"
if [[ "$code" == 200 ]] && grep -qi '^x-cache: HIT' "$WORK/zip.headers" &&
  cmp -s "$WORK/zip.body" "$FIXTURE/$MOD/@v/$ZIP_V.zip"; then
  pass "[T|G]: the cached zip is the good one (HIT, same bytes as the fixture)"
else fail "[T|G]: the cached zip is the good one" "status $code, $(grep -i '^x-cache' "$WORK/zip.headers" | tr -d '\r')"; fi
ej="$(prom modgate_upstream_ejections_total 'cluster="tampered"')"
if [[ "$ej" -ge 1 ]]; then pass "[T|G]: T's host was ejected by outlier detection ($ej)"
else fail "[T|G]: T's host was ejected by outlier detection" "modgate_upstream_ejections_total{cluster=tampered} = $ej"; fi
stop_modgate

# ---- 2. [T] alone: 502 naming both hashes, nothing cached --------------------
config "$WORK/tampered.yaml" "    cluster: tampered"
start_modgate -c "$WORK/tampered.yaml" --cache-dir "$WORK/cache2"
: >"$T_LOG"
for round in 1 2; do
  code="$(http_get "$PROXY_URL$zip_path" "$WORK/bad.body")"
  body="$(head -c 400 "$WORK/bad.body")"
  if [[ "$code" == 502 && "$body" == *"$BAD_ZIP_SUM"* && "$body" == *"$GOOD_ZIP_SUM"* ]]; then
    pass "[T] round $round: the tampered zip is 502 naming both hashes ($body)"
  else fail "[T] round $round: the tampered zip is 502 naming both hashes" "status $code: $body"; fi
done
assert_eq "[T]: not cached: each request asked T again" 2 "$(origin_requests "$zip_path" "$T_LOG")"
# Its local headers still say stack.go: the streamed hash disagrees with the
# central directory, so the zip was hashed again from the whole file.
assert_eq "[T]: the tampered zip fell back to the file pass both times (modgate_verify_zip_file_pass_total)" \
  2 "$(prom modgate_verify_zip_file_pass_total ' ')"
left="$(find "$WORK/cache2" -path "*$ZIP_V.zip*" -type f | wc -l)"
assert_eq "[T]: no cache file for the tampered zip" 0 "$left"
mod_path="/$MOD/@v/$MOD_V.mod"
code="$(http_get "$PROXY_URL$mod_path" "$WORK/badmod.body")"
body="$(head -c 400 "$WORK/badmod.body")"
good_mod_sum="$(fixture_sum "$MOD" "$MOD_V/go.mod")"
if [[ "$code" == 502 && "$body" == *"$good_mod_sum"* && "$body" == *"go.mod"* ]]; then
  pass "[T]: the tampered go.mod is 502 naming the database's hash ($body)"
else fail "[T]: the tampered go.mod is 502 naming the database's hash" "status $code: $body"; fi
go_env tampered
cd "$GO_HOME/work" || die "no work dir"
if timeout -k 5 120 go mod download -json "$MOD@$ZIP_V" >"$WORK/t.json" 2>"$WORK/t.err"; then
  fail "[T]: go mod download $MOD@$ZIP_V fails" "it succeeded"
else
  pass "[T]: go mod download $MOD@$ZIP_V fails ($(grep -o '"Error": *"[^"]*' "$WORK/t.json" | head -1 | cut -c1-200))"
fi
stop_modgate

# ---- 3. nosum: the check is skipped for matching modules ---------------------
config "$WORK/nosum.yaml" "    cluster: tampered" "nosum: \"example.com/none,github.com/pkg\""
start_modgate -c "$WORK/nosum.yaml" --cache-dir "$WORK/cache3"
code="$(http_get "$PROXY_URL$zip_path" "$WORK/nosum.body")"
if [[ "$code" == 200 ]] && cmp -s "$WORK/nosum.body" "$tampered/$MOD/@v/$ZIP_V.zip"; then
  pass "nosum github.com/pkg: $zip_path is served unchecked (the tampered bytes)"
else fail "nosum github.com/pkg: $zip_path is served unchecked" "status $code"; fi
# A good entry next to it, to be kept.
code="$(http_get "$PROXY_URL/github.com/google/uuid/@v/v1.3.0.zip" "$WORK/uuid.body")"
assert_eq "nosum: a good zip is cached next to the tampered one" 200 "$code"
stop_modgate

# ---- 4. verify-cache finds the tampered entry and removes it ------------------
# Same cache, now without nosum: the tampered zip cached above is checked.
start_modgate -c "$WORK/tampered.yaml" --cache-dir "$WORK/cache3"
"$MODGATE" verify-cache -c "$WORK/tampered.yaml" --admin "127.0.0.1:$MODGATE_ADMIN_PORT" \
  >"$WORK/vc.out" 2>"$WORK/vc.err"
rc=$?
want="removed $MOD/@v/$ZIP_V.zip: cached $BAD_ZIP_SUM, $GOSUMDB_NAME has $GOOD_ZIP_SUM"
if [[ "$rc" == 1 ]] && grep -qF "$want" "$WORK/vc.out" && grep -q '^done: .* 1 removed, 0 not verifiable' "$WORK/vc.out"; then
  pass "modgate verify-cache removes the tampered zip and says why (exit 1): $(head -1 "$WORK/vc.out")"
else fail "modgate verify-cache removes the tampered zip and says why" "exit $rc: $(tr '\n' '|' <"$WORK/vc.out") $(cat "$WORK/vc.err")"; fi
: >"$T_LOG"
code="$(http_get "$PROXY_URL$zip_path" "$WORK/after.body")"
assert_eq "after verify-cache: the zip is fetched again (and rejected: 502)" "502 1" "$code $(origin_requests "$zip_path" "$T_LOG")"
code="$(http_get "$PROXY_URL/github.com/google/uuid/@v/v1.3.0.zip" "$WORK/uuid.body" -D "$WORK/uuid.h")"
if [[ "$code" == 200 ]] && grep -qi '^x-cache: HIT' "$WORK/uuid.h"; then pass "after verify-cache: the good zip is still cached (HIT)"
else fail "after verify-cache: the good zip is still cached" "status $code"; fi
"$MODGATE" verify-cache -c "$WORK/tampered.yaml" --admin "127.0.0.1:$MODGATE_ADMIN_PORT" >"$WORK/vc2.out" 2>&1
rc=$?
if [[ "$rc" == 0 ]] && grep -q '^done: .* 0 removed' "$WORK/vc2.out"; then pass "a second verify-cache finds nothing to remove (exit 0): $(head -1 "$WORK/vc2.out")"
else fail "a second verify-cache finds nothing to remove" "exit $rc: $(tr '\n' '|' <"$WORK/vc2.out")"; fi
code="$(curl -s -o /dev/null -w '%{http_code}' "$ADMIN_URL/verify_cache" -X GET)"
assert_eq "GET /verify_cache reports the last run" 200 "$code"
stop_modgate

# ---- 5. stream_while_verifying: a zip streams while it is checked --------------
# [T] alone: the client gets the headers and part of the tampered zip, then a
# broken transfer (never a complete 200), over HTTP/1.1 (the connection
# closes short of content-length) and h2c (RST_STREAM); nothing is cached.
config "$WORK/stream-bad.yaml" "    cluster: tampered" "    stream_while_verifying: true"
start_modgate -c "$WORK/stream-bad.yaml" --cache-dir "$WORK/cache5"
: >"$T_LOG"
bad_size="$(stat -c %s "$tampered/$MOD/@v/$ZIP_V.zip")"
for proto in http1.1 h2c; do
  flags=(--http1.1)
  [[ "$proto" == h2c ]] && flags=(--http2-prior-knowledge)
  out="$(curl -s "${flags[@]}" -o "$WORK/sbad.body" -w '%{http_code}' --max-time 60 "$PROXY_URL$zip_path")"
  rc=$?
  got="$(stat -c %s "$WORK/sbad.body" 2>/dev/null || echo 0)"
  if [[ "$rc" != 0 && "$out" == 200 && "$got" -lt "$bad_size" ]]; then
    pass "[T] streamed over $proto: the tampered zip's transfer breaks off (curl exit $rc after $got of $bad_size bytes)"
  else fail "[T] streamed over $proto: the tampered zip's transfer breaks off" "curl exit $rc, status $out, $got of $bad_size bytes"; fi
done
assert_eq "[T] streamed: not cached: each request asked T again" 2 "$(origin_requests "$zip_path" "$T_LOG")"
left="$(find "$WORK/cache5" -path "*$ZIP_V.zip*" -type f | wc -l)"
assert_eq "[T] streamed: no cache file for the tampered zip" 0 "$left"
if grep -q "checksum mismatch for $MOD@$ZIP_V (zip)" "$MODGATE_STDERR"; then
  pass "[T] streamed: the mismatch is logged"
else fail "[T] streamed: the mismatch is logged" "$(grep -i mismatch "$MODGATE_STDERR" | head -2)"; fi
stop_modgate
# [T | G]: the first go command's download breaks off (T's zip was streaming
# to it); G's zip verifies and is cached, so the retry gets it.
config "$WORK/stream-fallback.yaml" "    fallback:
      steps:
        - cluster: tampered
          on: ANY_ERROR
        - cluster: good" "    stream_while_verifying: true"
start_modgate -c "$WORK/stream-fallback.yaml" --cache-dir "$WORK/cache6"
go_env streamed
cd "$GO_HOME/work" || die "no work dir"
if timeout -k 5 120 go mod download -json "$MOD@$ZIP_V" >"$WORK/s1.json" 2>"$WORK/s1.err"; then
  fail "[T|G] streamed: the first go mod download fails (T's zip was streaming to it)" "it succeeded"
else
  pass "[T|G] streamed: the first go mod download fails ($(grep -o '"Error": *"[^"]*' "$WORK/s1.json" | head -1 | cut -c1-160))"
fi
wait_until 60 cached_no_fetch "$zip_path" || log "G's zip is not cached after 60 s"
go_download_sums "[T|G] streamed: the retry verifies (G's zip, cached after T's was rejected)" "$MOD@$ZIP_V"
code="$(http_get "$PROXY_URL$zip_path" "$WORK/szip.body" -D "$WORK/szip.headers")"
if [[ "$code" == 200 ]] && grep -qi '^x-cache: HIT' "$WORK/szip.headers" &&
  cmp -s "$WORK/szip.body" "$FIXTURE/$MOD/@v/$ZIP_V.zip"; then
  pass "[T|G] streamed: the cached zip is the good one (HIT, same bytes as the fixture)"
else fail "[T|G] streamed: the cached zip is the good one" "status $code, $(grep -i '^x-cache' "$WORK/szip.headers" | tr -d '\r')"; fi
# A good zip streams whole: a MISS with every byte right.
code="$(http_get "$PROXY_URL/github.com/google/uuid/@v/v1.3.0.zip" "$WORK/suuid.body" -D "$WORK/suuid.h")"
if [[ "$code" == 200 ]] && grep -qi '^x-cache: MISS' "$WORK/suuid.h" &&
  cmp -s "$WORK/suuid.body" "$FIXTURE/github.com/google/uuid/@v/v1.3.0.zip"; then
  pass "[T|G] streamed: a good zip streams complete (MISS, same bytes as the fixture)"
else fail "[T|G] streamed: a good zip streams complete" "status $code, $(grep -i '^x-cache' "$WORK/suuid.h" | tr -d '\r')"; fi
stop_modgate

# ---- 6. every module version of the fixture verifies --------------------------
config "$WORK/good.yaml" "    cluster: good"
start_modgate -c "$WORK/good.yaml" --cache-dir "$WORK/cache4"
go_env all
cd "$GO_HOME/work" || die "no work dir"
mapfile -t all < <(awk '!/^#/ { print $1 "@" $2 }' "$FIXTURE/manifest.txt")
go_download_sums "go mod download of all ${#all[@]} fixture module versions through verification" "${all[@]}"
ok="$(prom modgate_verify_total 'result="ok"')"
if [[ "$ok" -ge $((2 * ${#all[@]})) ]]; then pass "every .mod and .zip was verified (modgate_verify_total{result=ok} = $ok)"
else fail "every .mod and .zip was verified" "modgate_verify_total{result=ok} = $ok, want >= $((2 * ${#all[@]}))"; fi
# Real module zips (Go's writer) are hashed as they stream: no second pass.
assert_eq "every fixture zip was hashed as it streamed (modgate_verify_zip_file_pass_total)" \
  0 "$(prom modgate_verify_zip_file_pass_total ' ')"
stop_modgate

finish
