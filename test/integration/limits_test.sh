#!/usr/bin/env bash
# Limits and refusals:
#   Disable-Module-Fetch: true on an uncached module: 404 with a reason, no
#     origin request (and a HIT when it is cached);
#   200 request headers: 431; one 100 KiB header: 431;
#   limits.request_timeout (2s): a client that sends half a request line, or
#     trickles its headers, is disconnected after ~2 s while a normal client
#     keeps being served;
#   limits.idle_timeout (2s): an idle keep-alive connection is closed;
#   limits.max_connections (3): a 4th concurrent connection is not served;
#   an upstream go.mod over Go's 16 MiB limit: 502 with a reason, not cached
#     (the next request asks the origin again);
#   DELETE: 405 with Allow.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init

BIG_MOD_P=/github.com/google/uuid/@v/v1.2.0.mod
OK_P=/github.com/google/uuid/@v/v1.3.0.info

# Origin tree whose uuid v1.2.0 go.mod is 17 MiB of text.
big="$WORK/origin-bigmod"
copy_fixture "$big" || die "cannot copy the fixture"
rm -f "$big$BIG_MOD_P" # a hard link: replace, never write through it
python3 - "$big$BIG_MOD_P" <<'EOF' || die "cannot write the big go.mod"
import sys
line = "// " + "x" * 77 + "\n"
with open(sys.argv[1], "w") as f:
    f.write("module github.com/google/uuid\n")
    f.write(line * ((17 << 20) // len(line) + 1))
EOF
big_size="$(stat -c %s "$big$BIG_MOD_P")"
((big_size > 16 << 20)) || die "big go.mod is only $big_size bytes"
cmp -s "$FIXTURE$BIG_MOD_P" "$big$BIG_MOD_P" && die "the fixture itself was changed"

# --verbose: origin.py logs each response as it starts (on stderr), so
# requests modgate abandons mid-body are counted too (the request log only
# has finished ones).
start_origin --root "$big" --verbose
cfg="$WORK/limits.yaml"
cat >"$cfg" <<EOF
limits:
  request_timeout: 2s
  idle_timeout: 2s
  max_connections: 3
clusters:
  - name: origin
    endpoints:
      - url: $ORIGIN_URL
EOF
start_modgate -c "$cfg" --cache-dir "$WORK/cache"
# origin_started PATH: responses the origin began for PATH.
origin_started() { grep -cF "\"GET $1 HTTP/1.1\"" "$ORIGIN_STDERR"; }

# ---- Disable-Module-Fetch ------------------------------------------------------
P=/github.com/pkg/errors/@v/v0.9.1.info
code="$(http_get "$PROXY_URL$P" "$WORK/nofetch.body" -H 'Disable-Module-Fetch: true')"
reason="$(tr -d '\r' <"$WORK/nofetch.body" | head -c 200 | tr '\n' ' ')"
if [[ "$code" == 404 && "$reason" =~ [[:alpha:]]{3} ]]; then pass "Disable-Module-Fetch on an uncached .info: 404 ($reason)"
else fail "Disable-Module-Fetch on an uncached .info: 404 with a reason" "status $code, body [$reason]"; fi
assert_eq "Disable-Module-Fetch: the origin was not asked" 0 "$(origin_started "$P")"
entries0="$(prom_value modgate_cache_entries)"
code="$(http_get "$PROXY_URL$P")"
assert_eq "without the header the same .info is fetched (200)" 200 "$code"
wait_cached $((entries0 + 1)) # the commit trails the response
code="$(http_get "$PROXY_URL$P" "$WORK/nofetch.body" -H 'Disable-Module-Fetch: true')"
assert_eq "Disable-Module-Fetch on a cached .info: 200 HIT" "200 HIT" "$code $(header X-Cache)"
assert_eq "Disable-Module-Fetch: the origin was asked once in all" 1 "$(origin_started "$P")"

# ---- header limits -----------------------------------------------------------------
hdrs=()
for ((i = 0; i < 200; i++)); do hdrs+=(-H "X-Filler-$i: $i"); done
code="$(http_get "$PROXY_URL$OK_P" "$WORK/431.body" "${hdrs[@]}")"
assert_eq "a request with 200 headers is 431 ($(head -c 80 "$WORK/431.body" | tr -d '\r\n'))" 431 "$code"
long="$(head -c 102400 /dev/zero | tr '\0' a)"
code="$(http_get "$PROXY_URL$OK_P" "$WORK/431b.body" -H "X-Long: $long")"
assert_eq "a request with one 100 KiB header is 431" 431 "$code"
code="$(http_get "$PROXY_URL$OK_P")"
assert_eq "a normal request afterwards is 200" 200 "$code"

# ---- request_timeout: slow headers ------------------------------------------------------
# slowclient MODE: prints "<seconds until the server closed> <first bytes>".
slowclient() {
  timeout 90 python3 - "$MODGATE_PORT" "$1" <<'EOF'
import socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=60)
t = time.time()
data = b""
try:
    if mode == "half":
        s.sendall(b"GET /github.com/google/uuid/@v/v1.")
        data = s.recv(1000)
    else:  # trickle: one header line every 0.5 s for 60 s, never the end
        s.sendall(b"GET /github.com/google/uuid/@v/v1.3.0.info HTTP/1.1\r\nHost: x\r\n")
        for i in range(120):
            time.sleep(0.5)
            s.sendall(b"X-Slow-%d: 1\r\n" % i)
        data = s.recv(1000)
except socket.timeout:
    data = b"TIMEOUT"
except (BrokenPipeError, ConnectionResetError):
    data = b""
print("%.1f %s" % (time.time() - t, data.split(b"\r\n")[0].decode("latin-1") or "closed"))
EOF
}
slowclient half >"$WORK/slow1.out" 2>&1 &
slow_pid=$!
sleep 0.5
start=$(date +%s%N)
code="$(http_get "$PROXY_URL$OK_P")"
ms=$((($(date +%s%N) - start) / 1000000))
# Served while the slow client still holds its connection (it is cut at the
# 2 s request timeout): the half request does not hold up the worker.
if [[ "$code" == 200 ]] && kill -0 "$slow_pid" 2>/dev/null; then
  pass "while a slow-headers client waits, a normal client is served (${ms} ms)"
else fail "while a slow-headers client waits, a normal client is served" "status $code after ${ms} ms; slow client still connected: $(kill -0 "$slow_pid" 2>/dev/null && echo yes || echo no)"; fi
wait "$slow_pid"
read -r secs first <"$WORK/slow1.out"
if [[ "$secs" =~ ^[0-9.]+$ ]] && python3 -c "import sys; sys.exit(0 if 1.5 <= $secs <= 20 else 1)"; then
  pass "half a request line: disconnected after ${secs}s (request_timeout 2s; got: $first)"
else fail "half a request line: disconnected after the 2s request_timeout" "$(cat "$WORK/slow1.out")"; fi

out="$(slowclient trickle)"
read -r secs first <<<"$out"
if [[ "$secs" =~ ^[0-9.]+$ ]] && python3 -c "import sys; sys.exit(0 if 1.5 <= $secs <= 20 else 1)"; then
  pass "headers trickled every 0.5 s: disconnected after ${secs}s (the timeout covers the whole header; got: $first)"
else fail "headers trickled every 0.5 s: disconnected after the 2s request_timeout" "$out"; fi

# ---- idle_timeout -----------------------------------------------------------------
out="$(timeout 90 python3 - "$MODGATE_PORT" "$OK_P" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[2].encode())
d = b""
while b"\r\n\r\n" not in d:
    d += s.recv(4096)
head, body = d.split(b"\r\n\r\n", 1)
n = int([l.split(b":", 1)[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
while len(body) < n:
    body += s.recv(4096)
t = time.time()
try:
    rest = s.recv(100)
except socket.timeout:
    rest = b"TIMEOUT"
except ConnectionResetError:
    rest = b""
print("%s %.1f %s" % (head.split(b"\r\n")[0].split()[1].decode(), time.time() - t, rest.decode("latin-1") or "closed"))
EOF
)"
read -r st secs what <<<"$out"
if [[ "$st" == 200 && "$what" == closed ]] && python3 -c "import sys; sys.exit(0 if 1.5 <= $secs <= 20 else 1)"; then
  pass "an idle keep-alive connection is closed after ${secs}s (idle_timeout 2s)"
else fail "an idle keep-alive connection is closed after the 2s idle_timeout" "[$out]"; fi

# ---- max_connections ------------------------------------------------------------------
# A 4th concurrent connection is closed at accept; once one of the three
# closes, a new one is served (modgate has to see the close first: retried
# for up to 20 s).
out="$(timeout 30 python3 - "$MODGATE_PORT" "$OK_P" <<'EOF'
import socket, sys, time
port, path = int(sys.argv[1]), sys.argv[2].encode()
req = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path
def ask(s):
    try:
        s.sendall(req)
        d = s.recv(200)
    except socket.timeout:
        return "timeout"
    except (BrokenPipeError, ConnectionResetError):
        return "reset"
    return d.split(b"\r\n")[0].decode("latin-1").replace(" ", "_") or "closed"
held = [socket.create_connection(("127.0.0.1", port), timeout=1.5) for _ in range(3)]
first = [ask(s) for s in held]          # all three established and served
try:
    fourth = ask(socket.create_connection(("127.0.0.1", port), timeout=1.5))
except ConnectionRefusedError:
    fourth = "refused"
held[0].close()
deadline = time.time() + 20
while True:
    try:
        again = ask(socket.create_connection(("127.0.0.1", port), timeout=5))
    except ConnectionRefusedError:
        again = "refused"
    if again.startswith("HTTP/1.1_200") or time.time() > deadline:
        break
    time.sleep(0.1)
print(",".join(first), fourth, again)
EOF
)"
read -r first fourth again <<<"$out"
assert_eq "max_connections 3: three connections are served" "HTTP/1.1_200_OK,HTTP/1.1_200_OK,HTTP/1.1_200_OK" "$first"
if [[ -n "$fourth" && ! "$fourth" =~ 200 ]]; then pass "max_connections 3: a 4th concurrent connection is not served ($fourth)"
else fail "max_connections 3: a 4th concurrent connection is not served" "it got [$fourth]"; fi
assert_eq "max_connections 3: after one closes, a new connection is served" "HTTP/1.1_200_OK" "$again"

# ---- go.mod over 16 MiB -------------------------------------------------------------------
code="$(http_get "$PROXY_URL$BIG_MOD_P" "$WORK/big1.body")"
reason="$(tr -d '\r' <"$WORK/big1.body" | head -c 200 | tr '\n' ' ')"
if [[ "$code" == 502 && "$reason" =~ [[:alpha:]]{3} && "$(stat -c %s "$WORK/big1.body")" -lt 4096 ]]; then
  pass "an upstream go.mod of $big_size bytes (> 16 MiB): 502 ($reason)"
else fail "an upstream go.mod over 16 MiB: 502 with a reason" "status $code, $(stat -c %s "$WORK/big1.body") bytes: ${reason:0:120}"; fi
n1="$(origin_started "$BIG_MOD_P")"
code="$(http_get "$PROXY_URL$BIG_MOD_P" "$WORK/big2.body")"
n2="$(origin_started "$BIG_MOD_P")"
assert_eq "the oversized go.mod is not cached: again 502, not a HIT" "502 " "$code $(header X-Cache)"
assert_eq "the oversized go.mod is not cached: the origin is asked again (1 then 2)" "1 2" "$n1 $n2"
entries="$(grep -rl 'xxxxxxxxxxxxxxxxxxxx' "$MODGATE_CACHE" 2>/dev/null | head -3)"
assert_eq "no cache file holds the oversized go.mod" "" "$entries"
P=/github.com/google/uuid/@v/v1.3.0.mod
code="$(http_get "$PROXY_URL$P")"
if [[ "$code" == 200 ]] && cmp -s "$WORK/last.body" "$FIXTURE$P"; then pass "a normal go.mod from the same origin is still served"
else fail "a normal go.mod from the same origin is still served" "status $code"; fi

# ---- DELETE ---------------------------------------------------------------------------
code="$(http_get "$PROXY_URL$OK_P" "$WORK/del.body" -X DELETE)"
allow="$(header Allow)"
if [[ "$code" == 405 && "$allow" =~ GET ]]; then pass "DELETE is 405 (Allow: $allow; $(head -c 100 "$WORK/del.body" | tr -d '\r\n'))"
else fail "DELETE is 405 with Allow" "status $code, Allow [$allow]"; fi

code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$ADMIN_URL/ready")"
assert_eq "admin /ready still 200" 200 "$code"
modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
