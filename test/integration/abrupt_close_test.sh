#!/usr/bin/env bash
# Clients that go away without a goodbye (issue 11, part 5): each must free
# its connection at once, not at limits.idle_timeout, or one client can fill
# limits.max_connections. Both timeouts are an hour here, so only the close
# itself can release a connection.
#   1. openssl s_time over TLS: handshakes that end the connection without
#      close_notify, often with a reset right behind the client's Finished
#      (TLS 1.2 and 1.3, new and resumed sessions, with and without a GET);
#   2. plain HTTP/1.1 clients that send half a request and reset.
# After each, modgate_downstream_cx_active must come back to 0, and the
# listener still serves.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$INTEG_DIR/reload_lib.sh"
source "$INTEG_DIR/tls_lib.sh"
integ_init
command -v openssl >/dev/null || die "openssl is missing"

pki="$WORK/pki"
make_pki "$pki"
start_origin
pick_ports 2
PLAIN_PORT="${PORTS[0]}" TLS_PORT="${PORTS[1]}"
cat >"$WORK/modgate.yaml" <<YAML
$(plain_and_tls_listeners "$pki")
limits:
  idle_timeout: 3600s
  request_timeout: 3600s
$(origin_yaml)
YAML
start_modgate_file "$WORK/modgate.yaml" --concurrency 1
P=/github.com/google/uuid/@v/v1.3.0.info
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 --cacert "$pki/ca.pem" "https://localhost:$TLS_PORT$P")"
assert_eq "a .info over TLS is served (and cached for the GETs below)" 200 "$code"

cx_active_is_zero() { [[ "$(prom_value modgate_downstream_cx_active)" == 0 ]]; }

# ---- TLS clients that close without close_notify -------------------------------------
for args in "-new -tls1_3" "-reuse -tls1_3 -www $P" "-new -tls1_2" "-reuse -tls1_2" "-new -tls1_2 -www $P"; do
  # shellcheck disable=SC2086  # the arguments are words
  out="$(timeout 60 openssl s_time -connect "127.0.0.1:$TLS_PORT" $args -time 2 2>&1)"
  connections="$(grep -oE '^[0-9]+ connections in [0-9.]+ real' <<<"$out" | head -1 | cut -d' ' -f1)"
  if [[ -z "$connections" || "$connections" == 0 ]]; then
    fail "openssl s_time $args" "no connection completed: $(tail -3 <<<"$out")"
    continue
  fi
  if wait_until 30 cx_active_is_zero; then
    pass "openssl s_time $args: all $connections connections closed by modgate (${WAITED_MS} ms after the client)"
  else
    fail "openssl s_time $args: $connections connections" \
      "$(prom_value modgate_downstream_cx_active) still open (idle_timeout is an hour)"
  fi
done

# ---- plain HTTP/1.1: half a request, then a reset -------------------------------------------
/usr/bin/python3 - "$PLAIN_PORT" >"$WORK/resets.out" 2>&1 <<'PY'
import socket, struct, sys
port = int(sys.argv[1])
for _ in range(200):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /github.com/google/uuid/@v/v1.3.0.info HTTP/1.1\r\nHo")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
print("sent 200")
PY
if grep -q "sent 200" "$WORK/resets.out" && wait_until 30 cx_active_is_zero; then
  pass "200 HTTP/1.1 clients that reset after half a request: all closed by modgate"
else
  fail "HTTP/1.1 clients that reset after half a request" \
    "$(cat "$WORK/resets.out") $(prom_value modgate_downstream_cx_active) connections still open"
fi

for url in "https://localhost:$TLS_PORT$P" "http://127.0.0.1:$PLAIN_PORT$P"; do
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 --cacert "$pki/ca.pem" "$url")"
  assert_eq "still serving afterwards: $url" 200 "$code"
done
if modgate_alive; then pass "modgate still running"; else fail "modgate still running" "$(tail -3 "$MODGATE_STDERR")"; fi
stop_modgate
finish
