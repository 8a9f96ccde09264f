#!/usr/bin/env bash
# An https:// upstream: nginx serves the fixture over TLS with a certificate
# for "localhost" signed by a CA made here with openssl. With the CA in the
# cluster's tls.ca_file the go command downloads and builds through modgate;
# without it (system trust store) the fetch fails with a 502 naming the TLS /
# certificate problem. tls.sni is checked against the certificate too.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing (apt-get install golang-go)"
command -v openssl >/dev/null || die "openssl is missing (apt-get install openssl)"
source "$INTEG_DIR/nginx_lib.sh"

# ---- a CA and a server certificate for localhost ----------------------------
pki="$WORK/pki"
mkdir -p "$pki"
(
  cd "$pki" || exit 1
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
    -subj "/CN=modgate integration test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" &&
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" &&
    printf '%s\n' "subjectAltName=DNS:localhost" "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >server.ext &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
      -days 2 -extfile server.ext &&
    openssl verify -CAfile ca.pem server.pem
) >"$pki/openssl.log" 2>&1 || { show_tail "$pki/openssl.log" 20; die "openssl could not make the certificates"; }
pass "openssl made a CA and a server certificate for localhost"

# ---- nginx serving the fixture over TLS -------------------------------------
# start_nginx_tls: the fixture over TLS with the certificate for localhost.
start_nginx_tls() {
  start_nginx TLS "    listen 127.0.0.1:@PORT@ ssl;
    server_name localhost;
    ssl_certificate $pki/server.pem;
    ssl_certificate_key $pki/server.key;
    root $FIXTURE;" "https://localhost:@PORT@/manifest.txt" --cacert "$pki/ca.pem"
}
start_nginx_tls
UP="https://localhost:$NGINX_PORT"

code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$pki/ca.pem" "$UP/github.com/google/uuid/@v/v1.3.0.mod")"
assert_eq "nginx serves the fixture over TLS (curl --cacert)" 200 "$code"

# write_config FILE URL [TLS-YAML-LINES...]: one cluster with one endpoint,
# a catch-all route, the fixture sumdb proxied through the route.
write_config() {
  local f="$1" url="$2" line; shift 2
  {
    echo "clusters:"
    echo "  - name: tls_origin"
    echo "    endpoints:"
    echo "      - url: $url"
    if (($#)); then
      echo "        tls:"
      for line in "$@"; do echo "          $line"; done
    fi
    echo "routes:"
    echo "  - name: all"
    echo "    cluster: tls_origin"
    echo "sumdbs:"
    echo "  - name: $GOSUMDB_NAME"
  } >"$f"
}

# ---- 1. ca_file: downloads and a build through the TLS upstream -------------
write_config "$WORK/ca.yaml" "$UP" "ca_file: $pki/ca.pem"
start_modgate -c "$WORK/ca.yaml" --cache-dir "$WORK/cache-ca"

p=/github.com/google/uuid/@v/v1.3.0.info
code="$(http_get "$PROXY_URL$p")"
if [[ "$code" == 200 ]] && cmp -s "$WORK/last.body" "$FIXTURE$p"; then
  pass "ca_file: GET $p through the https upstream is 200 with the fixture body (X-Cache: $(header X-Cache))"
else fail "ca_file: GET $p through the https upstream" "status $code, body [$(head -c 200 "$WORK/last.body")]"; fi

MODS=(github.com/BurntSushi/toml@v1.2.0 github.com/pkg/errors@v0.9.1
  github.com/patrickmn/go-cache@v2.1.0+incompatible golang.org/x/sys@v0.3.0
  gopkg.in/check.v1@v0.0.0-20161208181325-20d25e280405)
go_env tlsdl
cd "$GO_HOME/work" || die "no work dir"
go_download_sums "ca_file: go mod download of ${#MODS[@]} modules over TLS, sums match the fixture" "${MODS[@]}"

n="$(grep -c 'GET /github.com/%21burnt%21sushi/toml/@v/v1.2.0.zip\|GET /github.com/!burnt!sushi/toml/@v/v1.2.0.zip' "$NGINX_ACCESS_LOG")"
assert_eq "ca_file: nginx served the toml zip once" 1 "$n"
n="$(grep -c "GET /sumdb/$GOSUMDB_NAME/" "$NGINX_ACCESS_LOG")"
if ((n > 0)); then pass "ca_file: sumdb lookups went to the https upstream ($n requests)"
else fail "ca_file: sumdb lookups went to the https upstream" "none in nginx's access log"; fi

# The go_build_test program, built through the TLS upstream.
go_env tlsbuild
app="$GO_HOME/work/app"
mkdir -p "$app" && cd "$app" || die "cannot make $app"
check "ca_file: go mod init" --timeout 60 -- go mod init example.com/app
check "ca_file: go get github.com/spf13/cobra@latest" --timeout 300 -- go get github.com/spf13/cobra@latest
write_demo_main main.go
if check "ca_file: go build of a program importing uuid, cobra, testify" --timeout 600 -- go build -o demo .; then
  assert_eq "ca_file: the program runs" "$DEMO_OUTPUT" "$(timeout 30 ./demo 2>&1)"
else fail "ca_file: the program runs" "not built"; fi
bad=0
while read -r m v h; do
  [[ "$(fixture_sum "$m" "$v")" == "$h" ]] || { echo "    go.sum: $m $v $h not in the fixture go.sum"; bad=$((bad + 1)); }
done <go.sum
assert_eq "ca_file: every go.sum line ($(wc -l <go.sum)) equals the fixture's" 0 "$bad"
check "ca_file: go mod verify" --timeout 120 -- go mod verify
cd "$WORK" || die "no work dir"
stop_modgate

# ---- 2. no ca_file: the system trust store rejects the test CA --------------
write_config "$WORK/noca.yaml" "$UP"
start_modgate -c "$WORK/noca.yaml" --cache-dir "$WORK/cache-noca"
before="$(wc -l <"$NGINX_ACCESS_LOG")"
p=/github.com/google/uuid/@v/v1.2.0.info
code="$(http_get "$PROXY_URL$p")"
body="$(tr -d '\r' <"$WORK/last.body" | head -c 300 | tr '\n' ' ')"
assert_eq "no ca_file: GET $p is 502 (body: $body)" 502 "$code"
assert_match "no ca_file: the 502 body names the TLS/certificate failure" '(TLS|tls|certificate|verify)' "$body"
after="$(wc -l <"$NGINX_ACCESS_LOG")"
assert_eq "no ca_file: no HTTP request reached nginx" "$before" "$after"
code="$(http_get "$PROXY_URL$p")"
assert_eq "no ca_file: the failure was not cached (again 502, not a HIT)" "502 " "$code $(header X-Cache)"
go_env tlsnoca
cd "$GO_HOME/work" || die "no work dir"
if timeout -k 5 120 go mod download github.com/google/uuid@v1.2.0 >"$WORK/noca.out" 2>&1; then
  fail "no ca_file: go mod download fails" "it succeeded"
else
  assert_match "no ca_file: go mod download fails and prints the TLS reason" '(TLS|certificate|verify)' "$(cat "$WORK/noca.out")"
fi
cd "$WORK" || die "no work dir"
stop_modgate

# ---- 3. SNI / name check -----------------------------------------------------
# The certificate names only "localhost": reaching it as 127.0.0.1 fails
# verification, unless tls.sni says localhost.
UP_IP="https://127.0.0.1:$NGINX_PORT"
write_config "$WORK/ip.yaml" "$UP_IP" "ca_file: $pki/ca.pem"
start_modgate -c "$WORK/ip.yaml" --cache-dir "$WORK/cache-ip"
code="$(http_get "$PROXY_URL/github.com/google/uuid/@v/v1.1.0.info")"
body="$(tr -d '\r' <"$WORK/last.body" | head -c 300 | tr '\n' ' ')"
if [[ "$code" == 502 && "$body" =~ (TLS|certificate|verify|name|host) ]]; then
  pass "url $UP_IP with the CA but a certificate for localhost: 502 ($body)"
else fail "url $UP_IP with a certificate for localhost is rejected" "status $code, body [$body]"; fi
stop_modgate

# Regression check: tls.sni used to be validated but ignored (the handshake
# verified the URL host and answered 502 "certificate verify failed: IP
# address mismatch"); fixed in 1951e51.
write_config "$WORK/sni.yaml" "$UP_IP" "ca_file: $pki/ca.pem" "sni: localhost"
start_modgate -c "$WORK/sni.yaml" --cache-dir "$WORK/cache-sni"
p=/github.com/google/uuid/@v/v1.1.0.info
code="$(http_get "$PROXY_URL$p")"
if [[ "$code" == 200 ]] && cmp -s "$WORK/last.body" "$FIXTURE$p"; then
  pass "url $UP_IP with tls.sni: localhost verifies and serves (200)"
else fail "url $UP_IP with tls.sni: localhost" "status $code, body [$(head -c 200 "$WORK/last.body")]"; fi

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
