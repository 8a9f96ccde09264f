#!/usr/bin/env bash
# Slow readers and pipelining floods (issue 11, part 5), with real sockets
# (slow_reader.py) against the real binary:
#  - an HTTP/1.1 client that stops reading a 30 MiB zip is closed once no
#    byte was taken for send_timeout (2 s here): modgate logs it and the
#    client finds its download cut short;
#  - a client reading slowly but steadily gets the whole zip although the
#    download lasts several send_timeouts and idle_timeouts (not a cap on
#    download time; the sendfile()d body no longer trips the idle timer);
#  - an HTTP/2 client that never sends WINDOW_UPDATE (stream stalled by
#    flow control, socket still read) is closed the same way;
#  - 40 requests in one write: the first and the 32 pipelined behind it
#    answered (the default
#    max_pipelined_requests), the last with "connection: close", then the
#    connection closes; a normal client is served meanwhile.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$INTEG_DIR/reload_lib.sh"
integ_init
/usr/bin/python3 -c "import h2" 2>/dev/null || die "python3-h2 is missing"

ZIP=/example.com/fixtures/large/@v/v1.0.0.zip
INFO=/github.com/google/uuid/@v/v1.3.0.info
start_origin
pick_ports 1
cat >"$WORK/modgate.yaml" <<YAML
listeners:
  - name: main
    address: 127.0.0.1:${PORTS[0]}
admin:
  address: 127.0.0.1:$ADMIN_PORT
cache:
  dir: $WORK/cache
clusters:
  - name: origin
    endpoints:
      - url: $ORIGIN_URL
limits:
  send_timeout: 2s
  idle_timeout: 3s
YAML
start_modgate_file "$WORK/modgate.yaml"
PORT="${PORTS[0]}"
SIZE="$(awk '$1 == "example.com/fixtures/large" { for (i = 3; i <= NF; i++) if ($i ~ /^zip=/) print substr($i, 5) }' "$FIXTURE/manifest.txt")"
[[ -n "$SIZE" ]] || SIZE="$(stat -c %s "$FIXTURE/example.com/fixtures/large/@v/v1.0.0.zip")"
code="$(http_get "$PROXY_URL$ZIP" "$WORK/zip")"
assert_eq "the 30 MiB zip is served and cached" "200 $SIZE" "$code $(stat -c %s "$WORK/zip")"

# wait_log REGEX: waits (bounded) for a line of modgate's log.
wait_log() {
  local i
  for ((i = 0; i < 1200; i++)); do
    grep -qE "$1" "$MODGATE_STDERR" && return 0
    sleep 0.1
  done
  return 1
}

# ---- HTTP/1.1: a reader that stops ----------------------------------------------------
coproc STALL { exec /usr/bin/python3 "$INTEG_DIR/slow_reader.py" stall-h1 "$PORT" "$ZIP"; }
_LIB_PIDS+=("$STALL_PID")
read -r -t 120 _ stall_port <&"${STALL[0]}" || die "the stalling client did not start"
if wait_log "send_timeout: closed the connection from 127\.0\.0\.1:$stall_port"; then
  pass "HTTP/1.1 client that stopped reading: modgate closed it (send_timeout)"
else
  fail "HTTP/1.1 stalled client closed" "no send_timeout line for port $stall_port"
fi
echo drain >&"${STALL[1]}"
read -r -t 240 line <&"${STALL[0]}"
got="$(sed -E 's/^received ([0-9]+).*/\1/' <<<"$line")"
if [[ "$line" == received* ]] && ((got < SIZE)); then
  pass "the stalled client's download was cut short ($line of $SIZE)"
else fail "stalled client's download cut" "[$line]"; fi
code="$(http_get "$PROXY_URL$INFO")"
assert_eq "a normal client is served meanwhile" 200 "$code"

# ---- HTTP/1.1: slow but steady ---------------------------------------------------------
# 4 MiB/s: about 8 s for 30 MiB, several send_timeouts (2 s) and idle_timeouts (3 s).
out="$(timeout 300 /usr/bin/python3 "$INTEG_DIR/slow_reader.py" slow-h1 "$PORT" "$ZIP" 4194304)"
if [[ "$out" == "received $SIZE of $SIZE end=eof"* ]]; then
  pass "a slow, steady reader gets the whole zip ($out)"
else fail "slow reader gets the whole zip" "[$out]"; fi

# ---- HTTP/2: a stream stalled by flow control ------------------------------------------
out="$(timeout 300 /usr/bin/python3 "$INTEG_DIR/slow_reader.py" stall-h2 "$PORT" "$ZIP")"
if [[ "$out" =~ ^received\ ([0-9]+)\ end=(eof|goaway|reset) ]] && ((BASH_REMATCH[1] < SIZE)) &&
  (($(grep -c 'send_timeout: closed the connection .* [1-9][0-9]* streams paused' "$MODGATE_STDERR") >= 1)); then
  pass "HTTP/2 client that never opens its window: modgate ends it, a paused stream counted ($out)"
else fail "HTTP/2 stalled stream ended" "[$out] $(grep send_timeout "$MODGATE_STDERR" | tail -2)"; fi

# ---- HTTP/1.1 pipelining flood ---------------------------------------------------------
out="$(timeout 120 /usr/bin/python3 "$INTEG_DIR/slow_reader.py" pipeline "$PORT" "$INFO" 40)"
assert_eq "40 requests in one write: 1 + 32 pipelined answered, the last with connection: close, then closed" \
  "responses 33 last_close=True" "$out"
out="$(timeout 120 /usr/bin/python3 "$INTEG_DIR/slow_reader.py" pipeline "$PORT" "$INFO" 20)"
assert_eq "20 pipelined requests are all answered" "responses 20 last_close=False" "$out"

modgate_alive && pass "modgate is alive at the end" || fail "modgate alive" "it exited"
finish
