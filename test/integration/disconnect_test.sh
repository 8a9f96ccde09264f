#!/usr/bin/env bash
# Clients that go away during a single-flight fetch of the 30 MiB fixture zip
# from a throttled origin:
#   5 clients, 4 killed after their first bytes: the 5th gets the exact zip,
#     the origin is asked once, the zip is a HIT afterwards;
#   every client killed (fresh cache): the fetch still completes and fills
#     the cache (polled without starting a fetch: Disable-Module-Fetch), with
#     one origin request;
#   one client stopped (SIGSTOP) mid-body: the other still gets the zip.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init

RATE="${DISCONNECT_RATE:-8000000}" # origin body bytes/s: ~4 s for the zip
ZIP_PATH=/example.com/fixtures/large/@v/v1.0.0.zip
ZIP_FILE="$FIXTURE$ZIP_PATH"
[[ -f "$ZIP_FILE" ]] || die "fixture lacks $ZIP_PATH"
want="$(sha256 "$ZIP_FILE")"
size="$(stat -c %s "$ZIP_FILE")"
MIN_BYTES=$((1 << 20)) # a client is killed once it has this much

start_origin --rate "$RATE"

# start_clients DIR N: N background curls of the zip; CLIENT_PIDS.
start_clients() {
  local dir="$1" n="$2" i
  mkdir -p "$dir"
  CLIENT_PIDS=()
  for ((i = 0; i < n; i++)); do
    curl -sS --max-time 120 -D "$dir/$i.headers" -o "$dir/$i.body" -w '%{http_code}' \
      "$PROXY_URL$ZIP_PATH" >"$dir/$i.code" 2>"$dir/$i.err" &
    CLIENT_PIDS+=($!)
  done
}

# wait_bytes DIR I...: until each client's body file has MIN_BYTES (30 s max).
wait_bytes() {
  local dir="$1" i t s; shift
  for i in "$@"; do
    for ((t = 0; t < 300; t++)); do
      s="$(stat -c %s "$dir/$i.body" 2>/dev/null || echo 0)"
      ((s >= MIN_BYTES)) && break
      sleep 0.1
    done
    ((s >= MIN_BYTES)) || return 1
  done
}

# kill_clients DIR I...: SIGKILL those clients mid-body; checks they had not finished.
KILLED_EARLY=0
kill_clients() {
  local dir="$1" i s; shift
  KILLED_EARLY=0
  for i in "$@"; do
    kill -KILL "${CLIENT_PIDS[$i]}" 2>/dev/null
    wait "${CLIENT_PIDS[$i]}" 2>/dev/null
    s="$(stat -c %s "$dir/$i.body" 2>/dev/null || echo 0)"
    ((s > 0 && s < size)) && KILLED_EARLY=$((KILLED_EARLY + 1))
  done
}

# ---- 1. four of five clients go away ------------------------------------------
start_modgate --cache-dir "$WORK/cache1"
dir="$WORK/five"
start_clients "$dir" 5
if wait_bytes "$dir" 0 1 2 3 4; then
  kill_clients "$dir" 0 1 2 3
  assert_eq "5 clients: 4 killed after >= 1 MiB and before the end" 4 "$KILLED_EARLY"
  wait "${CLIENT_PIDS[4]}"
  code="$(cat "$dir/4.code")"
  got="$(sha256 "$dir/4.body")"
  if [[ "$code" == 200 && "$got" == "$want" ]]; then
    pass "5 clients: the remaining client got 200 and the exact zip ($size bytes)"
  else
    fail "5 clients: the remaining client got 200 and the exact zip" "status $code, $(stat -c %s "$dir/4.body") bytes, sha256 $got, curl: $(head -c 200 "$dir/4.err")"
  fi
else
  fail "5 clients: every client received 1 MiB within 30 s" "sizes: $(stat -c %s "$dir"/*.body | tr '\n' ' ')"
  for p in "${CLIENT_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
fi
assert_eq "5 clients: the origin was asked for the zip once" 1 "$(origin_requests "$ZIP_PATH")"
wait_until 60 cached_no_fetch "$ZIP_PATH" # the commit trails the last byte
code="$(http_get "$PROXY_URL$ZIP_PATH" "$WORK/after1.zip")"
if [[ "$code" == 200 && "$(header X-Cache)" == HIT && "$(sha256 "$WORK/after1.zip")" == "$want" ]]; then
  pass "5 clients: afterwards the zip is a HIT with the exact bytes"
else fail "5 clients: afterwards the zip is a HIT with the exact bytes" "status $code, X-Cache [$(header X-Cache)]"; fi
assert_eq "5 clients: the origin was still asked once" 1 "$(origin_requests "$ZIP_PATH")"
modgate_alive && pass "5 clients: modgate still running" || fail "5 clients: modgate still running" "it exited"
stop_modgate

# ---- 2. every client goes away --------------------------------------------------
reset_origin_log
start_modgate --cache-dir "$WORK/cache2"
dir="$WORK/all"
start_clients "$dir" 5
if wait_bytes "$dir" 0 1 2 3 4; then
  kill_clients "$dir" 0 1 2 3 4
  assert_eq "all clients gone: 5 killed after >= 1 MiB and before the end" 5 "$KILLED_EARLY"
else
  fail "all clients gone: every client received 1 MiB within 30 s" "sizes: $(stat -c %s "$dir"/*.body | tr '\n' ' ')"
  for p in "${CLIENT_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
fi
killed_at=$SECONDS
# Poll without joining or starting a fetch: a no-fetch GET is a HIT only
# once the abandoned fetch has committed the zip.
deadline=$((SECONDS + 60)) hit=0 last=""
while ((SECONDS < deadline)); do
  last="$(curl -s --max-time 30 -o "$WORK/poll.zip" -D "$WORK/poll.headers" -w '%{http_code}' \
    -H 'Disable-Module-Fetch: true' "$PROXY_URL$ZIP_PATH") $(header X-Cache "$WORK/poll.headers")"
  [[ "$last" == "200 HIT" ]] && { hit=1; break; }
  sleep 0.5
done
if ((hit)); then
  pass "all clients gone: the fetch completed; the zip is a HIT $((SECONDS - killed_at))s later"
  assert_eq "all clients gone: the cached zip is the exact fixture zip" "$want" "$(sha256 "$WORK/poll.zip")"
else
  fail "all clients gone: the fetch completed and the zip became a HIT within 60 s" "last poll: [$last]"
  grep -F "$ZIP_PATH" "$ORIGIN_LOG" | sed 's/^/    origin: /'
  show_tail "$MODGATE_STDERR" 15 "modgate output"
fi
assert_eq "all clients gone: the origin was asked for the zip once" 1 "$(origin_requests "$ZIP_PATH")"
code="$(http_get "$PROXY_URL$ZIP_PATH" "$WORK/after2.zip")"
if [[ "$code" == 200 && "$(header X-Cache)" == HIT && "$(sha256 "$WORK/after2.zip")" == "$want" ]]; then
  pass "all clients gone: a plain GET is a HIT with the exact bytes"
else fail "all clients gone: a plain GET is a HIT with the exact bytes" "status $code, X-Cache [$(header X-Cache)]"; fi
assert_eq "all clients gone: the origin was still asked once" 1 "$(origin_requests "$ZIP_PATH")"

stop_modgate

# ---- 3. a stalled client does not hold up the others ------------------------------
# One client stops reading (SIGSTOP) after 1 MiB; the other still gets the
# whole zip in bounded time, and the stalled one finishes once resumed.
reset_origin_log
start_modgate --cache-dir "$WORK/cache3"
dir="$WORK/stalled"
start_clients "$dir" 2
if wait_bytes "$dir" 0 1; then
  kill -STOP "${CLIENT_PIDS[0]}"
  start=$SECONDS
  for ((t = 0; t < 600; t++)); do kill -0 "${CLIENT_PIDS[1]}" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "${CLIENT_PIDS[1]}" 2>/dev/null; then
    fail "stalled client: the other client finishes within 60 s" "still running; $(stat -c %s "$dir/1.body") bytes"
    kill -KILL "${CLIENT_PIDS[1]}"
  fi
  wait "${CLIENT_PIDS[1]}" 2>/dev/null
  if [[ "$(cat "$dir/1.code")" == 200 && "$(sha256 "$dir/1.body")" == "$want" ]]; then
    pass "stalled client: the other client got the exact zip after $((SECONDS - start))s while one client was stopped"
  else fail "stalled client: the other client got the exact zip" "status $(cat "$dir/1.code"), $(stat -c %s "$dir/1.body") bytes"; fi
  kill -CONT "${CLIENT_PIDS[0]}"
  for ((t = 0; t < 600; t++)); do kill -0 "${CLIENT_PIDS[0]}" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "${CLIENT_PIDS[0]}" 2>/dev/null
  wait "${CLIENT_PIDS[0]}" 2>/dev/null
  if [[ "$(cat "$dir/0.code")" == 200 && "$(sha256 "$dir/0.body")" == "$want" ]]; then
    pass "stalled client: once resumed it also gets the exact zip"
  else fail "stalled client: once resumed it also gets the exact zip" "status $(cat "$dir/0.code"), $(stat -c %s "$dir/0.body") bytes, curl: $(head -c 200 "$dir/0.err")"; fi
else
  fail "stalled client: both clients received 1 MiB within 30 s" "sizes: $(stat -c %s "$dir"/*.body | tr '\n' ' ')"
  for p in "${CLIENT_PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
fi
assert_eq "stalled client: the origin was asked for the zip once" 1 "$(origin_requests "$ZIP_PATH")"

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
