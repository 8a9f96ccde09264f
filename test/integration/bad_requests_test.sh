#!/usr/bin/env bash
# Malformed and hostile requests get a 4xx with a text/plain reason, are not
# forwarded to the origin, and leave the proxy serving.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init

start_origin
start_modgate

# bad CASE EXPECTED_STATUS_REGEX PATH [curl flags]: the answer's status
# matches, it is text/plain with a non-empty reason, and the origin was not asked.
bad() {
  local name="$1" want="$2" path="$3"; shift 3
  local before after code ctype reason
  before="$(wc -l <"$ORIGIN_LOG")"
  code="$(curl -sS --max-time 30 --path-as-is -o "$WORK/bad.body" -D "$WORK/bad.headers" -w '%{http_code}' "$@" \
    "$PROXY_URL$path" 2>"$WORK/bad.err")"
  ctype="$(header Content-Type "$WORK/bad.headers")"
  reason="$(head -c 200 "$WORK/bad.body" | tr -d '\r' | tr '\n' ' ')"
  after="$(wc -l <"$ORIGIN_LOG")"
  if [[ ! "$code" =~ ^$want$ ]]; then
    fail "$name" "status [$code], want /$want/ (body: ${reason:-empty}) $(head -c 200 "$WORK/bad.err")"
  elif [[ ! "$ctype" =~ ^text/plain ]]; then
    fail "$name" "status $code but Content-Type [$ctype], want text/plain"
  elif [[ ! "$reason" =~ [[:alpha:]]{3} ]]; then
    fail "$name" "status $code but no reason in the body [${reason}]"
  elif ((after != before)); then
    fail "$name" "status $code but it was forwarded to the origin: $(tail -n $((after - before)) "$ORIGIN_LOG" | head -3 | tr '\n' ';')"
  else
    pass "$name: $code text/plain \"${reason% }\""
  fi
}

bad "path traversal /../etc/passwd" '4[0-9][0-9]' '/../etc/passwd'
bad "path traversal inside a module path" '4[0-9][0-9]' '/github.com/google/uuid/@v/../../../../etc/passwd'
bad "upper case in an escaped module path" '4[0-9][0-9]' '/github.com/X/y/@v/list'
bad "non-canonical version v1.0 for a .zip" '4[0-9][0-9]' '/github.com/a/b/@v/v1.0.zip'
bad "non-canonical version v1.0 for a .mod" '4[0-9][0-9]' '/github.com/a/b/@v/v1.0.mod'
bad "bad percent-escape %zz" '4[0-9][0-9]' '/github.com/a/b/@v/%zz.info'
bad "bad percent-escape %zz in the module path" '4[0-9][0-9]' '/%zz/@v/list'
bad "escaped NUL byte" '4[0-9][0-9]' '/github.com/a/b%00/@v/list'
bad "bad case-escape (!! in path)" '4[0-9][0-9]' '/github.com/%21%21a/b/@v/list'
bad "unknown @v/ suffix" '4[0-9][0-9]' '/github.com/google/uuid/@v/v1.3.0.exe'
bad "POST is 405" '405' '/github.com/google/uuid/@v/list' -X POST --data 'x=1'
bad "DELETE is 405" '405' '/github.com/google/uuid/@v/v1.3.0.info' -X DELETE

# A very long path: a 4xx (414/431/400) or a closed connection, never a hang.
long="/github.com/$(head -c 70000 /dev/zero | tr '\0' a)/@v/list"
code="$(curl -s --max-time 30 -o /dev/null -w '%{http_code}' "$PROXY_URL$long")"
if [[ "$code" =~ ^4[0-9][0-9]$ || "$code" == 000 ]]; then pass "a 70 KB path is refused (${code/000/connection closed})"
else fail "a 70 KB path is refused" "status $code"; fi

# Garbage on the wire: an HTTP 400 or a close, within 10 s.
out="$(timeout 15 python3 - "$MODGATE_PORT" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
try:
    data = s.recv(200)
except socket.timeout:
    print("timeout"); sys.exit()
except ConnectionResetError:
    data = b""
print(data.split(b"\r\n")[0].decode("latin-1") if data else "closed")
EOF
)"
if [[ "$out" =~ ^HTTP/1\.[01]\ 400 || "$out" == closed ]]; then pass "a garbage request line gets 400 or a close ($out)"
else fail "a garbage request line gets 400 or a close" "got [$out]"; fi

# Still healthy.
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$ADMIN_URL/ready")"
assert_eq "admin /ready still 200 afterwards" 200 "$code"
code="$(http_get "$PROXY_URL/github.com/google/uuid/@v/v1.3.0.info")"
if [[ "$code" == 200 ]] && cmp -s "$WORK/last.body" "$FIXTURE/github.com/google/uuid/@v/v1.3.0.info"; then
  pass "a valid request still works afterwards"
else fail "a valid request still works afterwards" "status $code"; fi
modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
