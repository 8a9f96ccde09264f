#!/usr/bin/env bash
# Listeners across a reload: "main" is unchanged, "old" is removed, "new" is
# added. A keep-alive connection to main opened before the reload answers
# its next request on the same socket after it; one to old is drained
# (closed once idle); old refuses new connections; new accepts them. A slow
# download started before the reload through a cluster the reload removes
# still completes byte for byte (it keeps the config and cluster it
# started with), on main and on the removed listener alike.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/reload_lib.sh"
integ_init

start_named_origin A
# ~31 MiB at 6 MB/s: about 5 s, so the reload lands mid-download.
start_named_origin SLOW --rate 6000000
pick_ports 3
MAIN="127.0.0.1:${PORTS[0]}" OLD="127.0.0.1:${PORTS[1]}" NEW="127.0.0.1:${PORTS[2]}"
mkdir -p "$WORK/etc"
write_config() { # FILE SECOND_LISTENER_NAME ADDRESS WITH_SLOW
  {
    cat <<EOF
listeners:
  - name: main
    address: $MAIN
  - name: $2
    address: $3
admin:
  address: 127.0.0.1:$ADMIN_PORT
cache:
  dir: $WORK/cache
concurrency: 2
clusters:
  - name: a
    endpoints:
      - url: "${O_URL[A]}"
EOF
    if [[ "$4" == yes ]]; then
      cat <<EOF
  - name: slow
    endpoints:
      - url: "${O_URL[SLOW]}"
routes:
  - name: large
    match: { prefix: example.com/fixtures/large }
    cluster: slow
EOF
    else
      echo "routes:"
    fi
    cat <<EOF
  - name: all
    cluster: a
EOF
  } >"$1"
}
write_config "$WORK/before.yaml" old "$OLD" yes
write_config "$WORK/after.yaml" new "$NEW" no
cp "$WORK/before.yaml" "$WORK/etc/modgate.yaml"
start_modgate_file "$WORK/etc/modgate.yaml" --no-watch

code_at() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://$1/github.com/google/uuid/@v/v1.3.0.info"; }
assert_eq "before: main serves" 200 "$(code_at "$MAIN")"
assert_eq "before: old serves" 200 "$(code_at "$OLD")"
assert_eq "before: new is not bound" 000 "$(code_at "$NEW")"

# Keep-alive clients: one request on each connection now, the next after
# "go" appears; each reports what the second request got and whether the
# socket was the same one.
cat >"$WORK/keepalive.py" <<'EOF'
import socket, sys, time, os
host, port, go, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
path = "/github.com/google/uuid/@v/v1.3.0.mod"
def request(sock):
    sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return "closed before a response"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, v = line.split(b":", 1)
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return "closed mid-body"
        body += chunk
    return head.split(b"\r\n")[0].decode()
s = socket.create_connection((host, port))
local = s.getsockname()
first = request(s)
open(out + ".first", "w").write(first + "\n")
while not os.path.exists(go):
    time.sleep(0.05)
time.sleep(0.3)  # let a drain, if any, act first
try:
    second = request(s)
except OSError as e:
    second = "error: %s" % e
open(out, "w").write("%s|%s|%s\n" % (first, second, s.getsockname() == local))
EOF
python3 "$WORK/keepalive.py" 127.0.0.1 "${PORTS[0]}" "$WORK/go" "$WORK/ka.main" &
ka_main=$!
python3 "$WORK/keepalive.py" 127.0.0.1 "${PORTS[1]}" "$WORK/go" "$WORK/ka.old" &
ka_old=$!
wait_until 60 test -s "$WORK/ka.main.first" -a -s "$WORK/ka.old.first" ||
  fail "keep-alive clients' first requests" "no answer"

# Slow downloads through the "slow" cluster, which the reload removes.
zip_path="/example.com/fixtures/large/@v/v1.0.0.zip"
curl -s --max-time 120 -o "$WORK/large.main" -w '%{http_code}' "http://$MAIN$zip_path" >"$WORK/large.main.code" &
dl_main=$!
curl -s --max-time 120 -o "$WORK/large.old" -w '%{http_code}' "http://$OLD$zip_path" >"$WORK/large.old.code" &
dl_old=$!
wait_until 60 bash -c "[[ -s '$WORK/large.main' && -s '$WORK/large.old' ]]" ||
  fail "slow downloads started" "no bytes yet"

cp "$WORK/after.yaml" "$WORK/etc/modgate.yaml"
reload_post
assert_eq "reload: 200 with version 1" "200 $(expected_version 1 "$WORK/after.yaml")" "$RELOAD_CODE $RELOAD_BODY"
if kill -0 "$dl_main" 2>/dev/null && kill -0 "$dl_old" 2>/dev/null; then
  pass "the reload happened while both downloads were in flight"
else fail "reload mid-download" "a download had already finished"; fi
touch "$WORK/go"

# Each worker closes the removed listener when it runs the posted change.
old_refuses() { [[ "$(code_at "$OLD")" == 000 ]]; }
wait_until 60 old_refuses
assert_eq "after: main still serves new connections" 200 "$(code_at "$MAIN")"
assert_eq "after: new accepts connections" 200 "$(code_at "$NEW")"
assert_eq "after: old refuses connections" 000 "$(code_at "$OLD")"

wait "$ka_main" "$ka_old"
IFS='|' read -r first second same <"$WORK/ka.main"
assert_eq "kept listener: the keep-alive connection answers after the reload on the same socket" \
  "HTTP/1.1 200 OK|HTTP/1.1 200 OK|True" "$first|$second|$same"
IFS='|' read -r first second same <"$WORK/ka.old"
if [[ "$first" == "HTTP/1.1 200 OK" && "$second" != "HTTP/1.1 200 OK" ]]; then
  pass "removed listener: its idle keep-alive connection was drained (second request: $second)"
else fail "removed listener: idle connection drained" "$first|$second|$same"; fi

want="$(sha256 "$FIXTURE$zip_path")"
for which in main old; do
  pid_var="dl_$which"
  wait "${!pid_var}"
  got_code="$(cat "$WORK/large.$which.code")"
  got="$(sha256 "$WORK/large.$which")"
  assert_eq "download via $which across the reload (cluster removed): 200 and the fixture's bytes" \
    "200 $want" "$got_code $got"
done
assert_eq "the slow origin was asked once (single flight)" 1 "$(origin_requests "$zip_path" "${O_LOG[SLOW]}")"
listeners="$(json_field "$(curl -s "$ADMIN_URL/config_dump")" bootstrap listeners)"
assert_match "/config_dump lists main and new" "'name': 'main'.*'name': 'new'" "$listeners"
assert_eq "/clusters no longer lists slow" 0 "$(curl -s "$ADMIN_URL/clusters" | grep -c '^slow::')"
finish
