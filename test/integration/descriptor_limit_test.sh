#!/usr/bin/env bash
# Running out of file descriptors (issue 11, part 5: a global connection cap
# with overload behaviour that keeps the admin port answering). modgate runs
# under prlimit with a small RLIMIT_NOFILE and one worker; a Python client
# opens 100 connections and holds them, sending nothing:
#   1. default limits.max_connections (half the descriptor limit, 128 here):
#      connections beyond 64 are closed at accept and counted as overflow,
#      accept() never fails, the admin port answers, a held connection is
#      served, and once the clients let go a new client is served;
#   2. limits.max_connections set above what the descriptors allow (limit
#      64): accept() fails with EMFILE, the listener pauses 250 ms between
#      tries instead of spinning (at most one failure per pause over the
#      measured time, one log line per 10 s), modgate stays up, and the
#      clients waiting in the accept queue are served once descriptors free.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$INTEG_DIR/reload_lib.sh"
integ_init
command -v prlimit >/dev/null || die "prlimit is missing (util-linux)"
start_origin
P=/github.com/google/uuid/@v/v1.3.0.info

# hold_connections N PORT OUT: opens N connections (one at a time, each
# 3 s to connect) and holds them until its stdin closes; writes
# "opened K" to OUT once all are open, then on a request: for "GET" it
# sends a GET of $P on the first connection and writes its status line.
cat >"$WORK/hold.py" <<'PY'
import socket, sys
n, port, out, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
socks = []
for _ in range(n):
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=3))
    except OSError:
        pass
with open(out, "w") as f:
    f.write("opened %d\n" % len(socks))
for line in sys.stdin:
    if line.strip() == "GET":
        s = socks[0]
        s.settimeout(60)
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        with open(out, "a") as f:
            f.write("status %s\n" % data.split(b"\r\n")[0].decode(errors="replace"))
PY
hold_connections() { /usr/bin/python3 -u "$WORK/hold.py" "$@" "$P"; }

write_cfg() {
  cat >"$1" <<YAML
concurrency: 1
listeners:
  - name: main
    address: 127.0.0.1:${PORTS[0]}
$(origin_yaml)
$2
YAML
}

opened() { grep -q '^opened' "$1" 2>/dev/null; }
got_status() { grep -q '^status' "$1" 2>/dev/null; }
served() { [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$PROXY_URL$P")" == 200 ]]; }

# ---- 1. the default cap keeps descriptors in reserve ---------------------------------------
pick_ports 1
write_cfg "$WORK/default.yaml" ""
MODGATE_WRAPPER=(prlimit --nofile=128:128 --)
start_modgate_file "$WORK/default.yaml"
exec {hold_in}> >(hold_connections 100 "${PORTS[0]}" "$WORK/held1.out")
if wait_until 120 opened "$WORK/held1.out"; then
  pass "a client opened its connections: $(cat "$WORK/held1.out")"
else fail "a client opened its connections" "$(cat "$WORK/held1.out" 2>/dev/null)"; fi
overflow_seen() { (($(prom_value modgate_downstream_cx_overflow_total) >= 30)); }
if wait_until 60 overflow_seen; then
  pass "connections beyond the default cap (64 of RLIMIT_NOFILE 128) were closed at accept: $(prom_value modgate_downstream_cx_overflow_total) overflowed"
else fail "connections beyond the default cap were closed at accept" "overflow $(prom_value modgate_downstream_cx_overflow_total), active $(prom_value modgate_downstream_cx_active)"; fi
assert_eq "no accept() failed (the cap kept descriptors in reserve)" 0 "$(prom_value modgate_downstream_cx_accept_error_total)"
assert_eq "the admin port answers while clients hold the cap" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$ADMIN_URL/ready")"
echo GET >&"$hold_in"
if wait_until 60 got_status "$WORK/held1.out" && grep -q '^status HTTP/1.1 200' "$WORK/held1.out"; then
  pass "a held connection is served (it needs an upstream socket and a cache file)"
else fail "a held connection is served" "$(cat "$WORK/held1.out")"; fi
exec {hold_in}>&-
if wait_until 60 served; then
  pass "once the clients let go, a new client is served"
else fail "once the clients let go, a new client is served" "$(tail -3 "$MODGATE_STDERR")"; fi
stop_modgate

# ---- 2. accept() out of descriptors: paused, not spinning ----------------------------------
pick_ports 1
write_cfg "$WORK/over.yaml" "limits:
  max_connections: 100000"
MODGATE_WRAPPER=(prlimit --nofile=64:64 --)
start_modgate_file "$WORK/over.yaml"
t0="$(date +%s%N)"
exec {hold_in}> >(hold_connections 100 "${PORTS[0]}" "$WORK/held2.out")
# The admin port shares the descriptor table and may not answer while it
# is full: what happens meanwhile is read from the log and /proc, the
# counter once the clients let go.
accept_failed() { grep -q 'failed: Too many open files' "$MODGATE_STDERR"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$MODGATE_PID/stat"; }
if wait_until 120 accept_failed; then
  pass "accept() ran out of descriptors: $(grep -m1 'failed: Too many open files' "$MODGATE_STDERR" | cut -c1-160)"
  # A listener that retried at once would burn whatever CPU it is given;
  # a paused one uses next to none. Load only lowers what a spinning one
  # gets, so this bound cannot fail for want of CPU.
  c1="$(cpu_ticks)"; w1="$(date +%s%N)"
  sleep 2
  c2="$(cpu_ticks)"; w2="$(date +%s%N)"
  cpu_ms=$(((c2 - c1) * 1000 / $(getconf CLK_TCK))); wall_ms=$(((w2 - w1) / 1000000))
  if ((cpu_ms <= wall_ms / 10 + 50)); then
    pass "no spinning while the descriptor table is full: $cpu_ms ms of CPU in $wall_ms ms"
  else fail "no spinning while the descriptor table is full" "$cpu_ms ms of CPU in $wall_ms ms"; fi
else fail "accept() ran out of descriptors" "$(cat "$WORK/held2.out" 2>/dev/null); $(tail -3 "$MODGATE_STDERR")"; fi
exec {hold_in}>&-
if wait_until 60 served; then
  pass "once descriptors free, a new client is served"
else fail "once descriptors free, a new client is served" "$(tail -3 "$MODGATE_STDERR")"; fi
t2="$(date +%s%N)"
held_ms=$(((t2 - t0) / 1000000))
failures="$(prom_value modgate_downstream_cx_accept_error_total)"
# One failure per 250 ms pause at most (a loaded machine only makes fewer).
bound=$((held_ms / 250 + 4))
if ((failures >= 1 && failures <= bound)); then
  pass "paused between tries: $failures accept() failures in $held_ms ms (at most $bound)"
else fail "paused between tries" "$failures accept() failures in $held_ms ms (at most $bound)"; fi
lines="$(grep -c 'failed: Too many open files' "$MODGATE_STDERR")"
if ((lines >= 1 && lines <= held_ms / 10000 + 2)); then
  pass "logged once per 10 s: $lines line(s) in $held_ms ms"
else fail "logged once per 10 s" "$lines lines in $held_ms ms"; fi
if modgate_alive; then pass "modgate still running"; else fail "modgate still running" "$(tail -3 "$MODGATE_STDERR")"; fi
stop_modgate
finish
