#!/usr/bin/env bash
# Per-client limits (issue 11, part 5): limits.requests_per_second_per_client
# answers 429 with Retry-After to a client that asks too fast, while another
# client (another source address, 127.0.0.2) measured at the same time gets
# every answer; limits.max_connections_per_client closes a client's extra
# connections at accept while other clients and the admin port are served,
# and lets the client in again once its connections close.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$INTEG_DIR/cluster_lib.sh"
source "$INTEG_DIR/reload_lib.sh"
integ_init
command -v h2load >/dev/null || die "h2load is missing"
curl -s -o /dev/null --max-time 5 --interface 127.0.0.2 "http://127.0.0.1:1/" 2>/dev/null
[[ $? == 45 ]] && die "cannot use 127.0.0.2 as a source address"
start_origin
pick_ports 1
cat >"$WORK/modgate.yaml" <<YAML
listeners:
  - name: main
    address: 127.0.0.1:${PORTS[0]}
$(origin_yaml)
limits:
  requests_per_second_per_client: 5
  max_connections_per_client: 4
YAML
start_modgate_file "$WORK/modgate.yaml"
p=/github.com/google/uuid/@v/v1.3.0.info

# ---- request rate ----------------------------------------------------------------
# Another client, within its own budget (a pause between requests keeps it
# under 5 in any one-second window), asks at the same time as the flood.
(
  for ((i = 0; i < 10; i++)); do
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 --interface 127.0.0.2 "$PROXY_URL$p"
    sleep 0.3
  done >"$WORK/other.codes"
) &
other=$!
out="$(timeout 120 h2load -n 300 -c 1 -m 1 "$PROXY_URL$p" 2>&1)"
wait "$other"
n429="$(grep -oE '[0-9]+ 4xx' <<<"$out" | cut -d' ' -f1)"
n2xx="$(grep -oE '[0-9]+ 2xx' <<<"$out" | cut -d' ' -f1)"
if ((${n429:-0} > 0 && ${n2xx:-0} >= 5)); then
  pass "300 requests as fast as h2load can: $n2xx served, $n429 refused"
else fail "request rate limit" "$(grep 'status codes' <<<"$out")"; fi
assert_eq "the other client (127.0.0.2) got all its 10 answers meanwhile" 10 "$(grep -c '^200$' "$WORK/other.codes")"
# 20 pipelined requests in one write arrive together, so at least 6 fall
# in one second window however slow the machine is: some get 429.
sleep 1.1
/usr/bin/python3 - "${PORTS[0]}" "$p" >"$WORK/pipelined.out" <<'PY'
import socket, sys
port, path = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=60)
s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode() * 20)
data = b""
while data.count(b"HTTP/1.1 ") < 20 or not data.endswith((b"\n", b"}")):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
for response in data.split(b"HTTP/1.1 ")[1:]:
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    retry = [l.split(":", 1)[1].strip() for l in lines if l.lower().startswith("retry-after:")]
    if lines[0].startswith("429"):
        print("429", retry[0] if retry else "-", body.decode().split("\n")[0])
        break
PY
if grep -qx '429 1 modgate: too many requests from 127.0.0.1 (limit 5 per second)' "$WORK/pipelined.out"; then
  pass "a refused request: 429, Retry-After: 1 and a one-line reason"
else fail "429 response" "got [$(cat "$WORK/pipelined.out")]"; fi

# ---- connections per client ---------------------------------------------------------
/usr/bin/python3 - "${PORTS[0]}" "$WORK/hold" <<'PY' &
import os, socket, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
open(go + ".ready", "w").close()
deadline = time.time() + 120
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.1)
PY
holder=$!
_LIB_PIDS+=("$holder")
for ((i = 0; i < 300; i++)); do [[ -e "$WORK/hold.ready" ]] && break; sleep 0.1; done
sleep 1 # the rate window of the flood above is over
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$PROXY_URL$p")"
[[ "$code" == 000 ]] && pass "a fifth connection from 127.0.0.1 is closed at accept" ||
  fail "per-client connection cap" "got HTTP $code"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --interface 127.0.0.2 "$PROXY_URL$p")"
assert_eq "127.0.0.2 is served meanwhile" 200 "$code"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$ADMIN_URL/ready")"
assert_eq "the admin port answers meanwhile" 200 "$code"
touch "$WORK/hold"
wait "$holder"; _forget_pid "$holder"
for ((i = 0; i < 100; i++)); do
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$PROXY_URL$p")"
  [[ "$code" == 200 ]] && break
  sleep 0.2
done
assert_eq "once its connections closed, 127.0.0.1 is served again" 200 "$code"
modgate_alive && pass "modgate is alive at the end" || fail "modgate alive" "it exited"
finish
