#!/usr/bin/env bash
# 50 clients ask an empty modgate for the same 30 MiB zip while the origin
# sends it slowly: the origin is asked exactly once, and every client gets
# the exact fixture bytes.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init

CLIENTS="${SINGLE_FLIGHT_CLIENTS:-50}"
RATE="${SINGLE_FLIGHT_RATE:-10000000}"     # origin body bytes/s: ~3 s for the zip
ZIP_PATH=/example.com/fixtures/large/@v/v1.0.0.zip
ZIP_FILE="$FIXTURE$ZIP_PATH"
[[ -f "$ZIP_FILE" ]] || die "fixture lacks $ZIP_PATH"
want="$(sha256 "$ZIP_FILE")"
size="$(stat -c %s "$ZIP_FILE")"

start_origin --rate "$RATE" --delay-ms 500
start_modgate

dir="$WORK/clients"
mkdir -p "$dir"
log "$CLIENTS concurrent GETs of $ZIP_PATH ($size bytes, origin at $RATE B/s)"
start=$SECONDS
pids=()
for ((i = 0; i < CLIENTS; i++)); do
  (
    curl -sS --max-time 240 -D "$dir/$i.headers" -w '%{http_code}' -o >(sha256sum | cut -d' ' -f1 >"$dir/$i.sha") \
      "$PROXY_URL$ZIP_PATH" >"$dir/$i.code" 2>"$dir/$i.err"
    echo $? >"$dir/$i.rc"
  ) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
# The >(sha256sum) process substitutions finish on their own, after curl.
all_hashed() {
  local i
  for ((i = 0; i < CLIENTS; i++)); do
    [[ "$(cat "$dir/$i.sha" 2>/dev/null)" =~ ^[0-9a-f]{64}$ ]] || return 1
  done
}
wait_until 60 all_hashed
log "all clients done after $((SECONDS - start))s"

ok=0 bad_status=0 bad_body=0
for ((i = 0; i < CLIENTS; i++)); do
  code="$(cat "$dir/$i.code" 2>/dev/null)" rc="$(cat "$dir/$i.rc" 2>/dev/null)"
  got="$(cat "$dir/$i.sha" 2>/dev/null)"
  if [[ "$rc" != 0 || "$code" != 200 ]]; then
    bad_status=$((bad_status + 1))
    ((bad_status <= 3)) && echo "    client $i: curl exit $rc, status $code: $(head -c 200 "$dir/$i.err")"
  elif [[ "$got" != "$want" ]]; then
    bad_body=$((bad_body + 1))
    ((bad_body <= 3)) && echo "    client $i: sha256 $got"
  else ok=$((ok + 1)); fi
done
assert_eq "all $CLIENTS clients got 200" 0 "$bad_status"
assert_eq "all $CLIENTS bodies are the fixture zip (sha256 $want)" "$CLIENTS" "$ok"

n="$(origin_requests "$ZIP_PATH")"
assert_eq "the origin was asked for the zip exactly once" 1 "$n"
[[ "$n" == 1 ]] || grep -F "$ZIP_PATH" "$ORIGIN_LOG" | head -5 | sed 's/^/    origin: /'

xcache="$(cat "$dir"/*.headers 2>/dev/null | tr -d '\r' | awk -F': *' 'tolower($1) == "x-cache" { print $2 }' | sort | uniq -c | tr '\n' ' ')"
log "X-Cache values: ${xcache:-none}"

# And afterwards it is a plain cache hit that does not touch the origin.
code="$(http_get "$PROXY_URL$ZIP_PATH" "$WORK/after.zip")"
if [[ "$code" == 200 && "$(sha256 "$WORK/after.zip")" == "$want" && "$(header X-Cache)" == HIT ]]; then
  pass "a later GET is a HIT with the same bytes"
else fail "a later GET is a HIT with the same bytes" "status $code, X-Cache [$(header X-Cache)]"; fi
assert_eq "the origin was still asked only once" 1 "$(origin_requests "$ZIP_PATH")"

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
