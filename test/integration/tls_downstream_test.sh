#!/usr/bin/env bash
# Downstream TLS (issue 11, part 1): listeners with certificates made here
# with openssl. The go command downloads through GOPROXY=https://localhost
# with SSL_CERT_FILE=the test CA; curl over TLS with HTTP/1.1 and h2 (ALPN),
# nghttp and h2load over TLS; session resumption with tickets (openssl
# s_client -sess_out/-sess_in, TLS 1.3 and 1.2); SNI picking the second
# certificate; mTLS requiring a client certificate; a Kubernetes-style
# "..data" certificate swap seen by new connections while an open keep-alive
# connection goes on; a reload with a bad key rejected.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$INTEG_DIR/cluster_lib.sh"
source "$INTEG_DIR/reload_lib.sh"
source "$INTEG_DIR/tls_lib.sh"
integ_init
for t in go openssl nghttp h2load; do command -v "$t" >/dev/null || die "$t is missing"; done

pki="$WORK/pki"
make_pki "$pki"
make_leaf "$pki" localhost2 ca "/CN=localhost-v2" "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  "extendedKeyUsage=serverAuth" >>"$pki/openssl.log" 2>&1 || die "openssl: second localhost certificate"
# A Kubernetes Secret volume: tls.crt -> ..data/tls.crt, ..data -> ..v1.
k8s="$WORK/secret"
mkdir -p "$k8s/..v1" "$k8s/..v2"
cp "$pki/localhost.pem" "$k8s/..v1/tls.crt"; cp "$pki/localhost.key" "$k8s/..v1/tls.key"
cp "$pki/localhost2.pem" "$k8s/..v2/tls.crt"; cp "$pki/localhost2.key" "$k8s/..v2/tls.key"
ln -s ..v1 "$k8s/..data"
ln -s ..data/tls.crt "$k8s/tls.crt"; ln -s ..data/tls.key "$k8s/tls.key"
pass "openssl made the test CAs and certificates"

start_origin
pick_ports 2
TLS_PORT="${PORTS[0]}" MTLS_PORT="${PORTS[1]}"
# write_config FILE [KEY_FILE]
write_config() {
  cat >"$1" <<YAML
listeners:
  - name: tls
    address: 127.0.0.1:$TLS_PORT
    tls:
      certificates:
        - certificate_chain_file: $k8s/tls.crt
          private_key_file: ${2:-$k8s/tls.key}
        - certificate_chain_file: $pki/other.pem
          private_key_file: $pki/other.key
  - name: mtls
    address: 127.0.0.1:$MTLS_PORT
    tls:
      certificates:
        - certificate_chain_file: $pki/localhost.pem
          private_key_file: $pki/localhost.key
      client_ca_file: $pki/client-ca.pem
$(origin_yaml)
sumdbs:
  - name: $GOSUMDB_NAME
YAML
}
write_config "$WORK/modgate.yaml"
start_modgate_file "$WORK/modgate.yaml"
TLS_URL="https://localhost:$TLS_PORT"
p=/github.com/google/uuid/@v/v1.3.0.info

# ---- curl over TLS, HTTP/1.1 and h2 by ALPN ----------------------------------
for v in 1.1 2; do
  flag=--http1.1; [[ $v == 2 ]] && flag=--http2
  out="$(curl -sS --max-time 30 --cacert "$pki/ca.pem" $flag -o "$WORK/curl.body" \
    -w '%{http_code} %{http_version}' "$TLS_URL$p" 2>&1)"
  if [[ "$out" == "200 $v" ]] && cmp -s "$WORK/curl.body" "$FIXTURE$p"; then
    pass "curl $flag over TLS: 200, HTTP/$v, the fixture's body"
  else fail "curl $flag over TLS" "got [$out]"; fi
done
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$TLS_PORT$p")"
[[ "$code" != 200 ]] && pass "plain HTTP to the TLS listener is not served (curl: $code)" ||
  fail "plain HTTP to the TLS listener" "got 200"

# ---- nghttp and h2load over TLS ------------------------------------------------
protocol_counts() { # the connections and streams counted for h2 and http1_tls
  echo "$(prom_value modgate_downstream_cx_protocol_total protocol=h2) $(prom_value modgate_downstream_rq_protocol_total protocol=h2)" \
    "$(prom_value modgate_downstream_cx_protocol_total protocol=http1_tls) $(prom_value modgate_downstream_rq_protocol_total protocol=http1_tls)"
}
read -r h2_cx0 h2_rq0 h1_cx0 h1_rq0 <<<"$(protocol_counts)"
out="$(timeout 30 nghttp -v "$TLS_URL$p" 2>&1 </dev/null)"
# nghttp has no CA option; it does not verify, and says what it negotiated.
if grep -q 'The negotiated protocol: h2' <<<"$out" && grep -q ':status: 200' <<<"$out"; then
  pass "nghttp over TLS: h2 negotiated by ALPN, 200"
else fail "nghttp over TLS" "$(tail -5 <<<"$out")"; fi
out="$(timeout 120 h2load -n 400 -c 4 -m 8 "$TLS_URL$p" 2>&1)"
if grep -q 'Application protocol: h2' <<<"$out" &&
  grep -qE 'requests: 400 total, 400 started, 400 done, 400 succeeded' <<<"$out" &&
  grep -qE 'status codes: 400 2xx' <<<"$out"; then
  pass "h2load over TLS: 400 requests on 4 connections, all 2xx"
else fail "h2load over TLS" "$(grep -E 'protocol|requests:|status codes' <<<"$out")"; fi
out="$(timeout 120 h2load --h1 -n 200 -c 2 "$TLS_URL$p" 2>&1)"
if grep -q 'Application protocol: http/1.1' <<<"$out" && grep -qE 'status codes: 200 2xx' <<<"$out"; then
  pass "h2load --h1 over TLS: http/1.1 by ALPN, 200 requests all 2xx"
else fail "h2load --h1 over TLS" "$(grep -E 'protocol|requests:|status codes' <<<"$out")"; fi
read -r h2_cx1 h2_rq1 h1_cx1 h1_rq1 <<<"$(protocol_counts)"
assert_eq "modgate_downstream_{cx,rq}_protocol_total: h2 5 connections 401 streams, http1_tls 2 and 200" \
  "5 401 2 200" "$((h2_cx1 - h2_cx0)) $((h2_rq1 - h2_rq0)) $((h1_cx1 - h1_cx0)) $((h1_rq1 - h1_rq0))"

# ---- the go command with GOPROXY=https:// ----------------------------------------
MODS=(github.com/BurntSushi/toml@v1.2.0 github.com/pkg/errors@v0.9.1 golang.org/x/sys@v0.3.0)
PROXY_URL="$TLS_URL"
go_env tls
export SSL_CERT_FILE="$pki/ca.pem"
(cd "$GO_HOME/work" && go_download_sums "go mod download through GOPROXY=$TLS_URL (SSL_CERT_FILE = test CA), sums match" "${MODS[@]}")
unset SSL_CERT_FILE
go_env tls-untrusted
if (cd "$GO_HOME/work" && timeout 120 go mod download github.com/pkg/errors@v0.9.1 >"$WORK/untrusted.out" 2>&1); then
  fail "the go command without the test CA" "download succeeded"
else
  grep -q 'certificate' "$WORK/untrusted.out" && pass "the go command without the test CA refuses the certificate" ||
    fail "the go command without the test CA" "$(tail -2 "$WORK/untrusted.out")"
fi

# ---- session resumption ---------------------------------------------------------------
req="GET $p HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
for v in tls1_3 tls1_2; do
  # The request makes the server answer and close, so the client reads the
  # ticket (TLS 1.3 sends it after the handshake) before it exits.
  printf "$req" | timeout 30 openssl s_client -"$v" -connect "127.0.0.1:$TLS_PORT" -servername localhost \
    -CAfile "$pki/ca.pem" -alpn http/1.1 -ign_eof -sess_out "$WORK/$v.sess" >"$WORK/$v.first" 2>&1
  printf "$req" | timeout 30 openssl s_client -"$v" -connect "127.0.0.1:$TLS_PORT" -servername localhost \
    -CAfile "$pki/ca.pem" -alpn http/1.1 -ign_eof -sess_in "$WORK/$v.sess" >"$WORK/$v.second" 2>&1
  if grep -q '^New,' "$WORK/$v.first" && grep -q '^Reused,' "$WORK/$v.second" &&
    grep -q 'HTTP/1.1 200' "$WORK/$v.second"; then
    pass "$v: the second connection resumes the first one's session (ticket) and gets 200"
  else fail "$v session resumption" "first: $(grep -E '^(New|Reused)' "$WORK/$v.first"), second: $(grep -E '^(New|Reused)' "$WORK/$v.second")"; fi
done

# ---- SNI ------------------------------------------------------------------------------------
assert_match "no SNI match: the first certificate" 'CN ?= ?localhost' "$(served_subject "$TLS_PORT" localhost)"
assert_match "SNI other.test: the second certificate" 'CN ?= ?other.test' "$(served_subject "$TLS_PORT" other.test)"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$pki/ca.pem" \
  --resolve "other.test:$TLS_PORT:127.0.0.1" "https://other.test:$TLS_PORT$p")"
assert_eq "curl https://other.test verifies the SNI certificate and gets 200" 200 "$code"

# ---- mTLS ------------------------------------------------------------------------------------
MTLS_URL="https://localhost:$MTLS_PORT"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$pki/ca.pem" "$MTLS_URL$p")"
[[ "$code" == 000 ]] && pass "mTLS listener: a client without a certificate fails the handshake" ||
  fail "mTLS without a client certificate" "got HTTP $code"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$pki/ca.pem" \
  --cert "$pki/localhost.pem" --key "$pki/localhost.key" "$MTLS_URL$p")"
[[ "$code" == 000 ]] && pass "mTLS listener: a certificate the client CA did not sign fails" ||
  fail "mTLS with a certificate of another CA" "got HTTP $code"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$pki/ca.pem" \
  --cert "$pki/builder.pem" --key "$pki/builder.key" "$MTLS_URL$p")"
assert_eq "mTLS listener: the client CA's certificate (spiffe://ci.test/builder) gets 200" 200 "$code"

# ---- a certificate swap while a client is connected ------------------------------------------
python3 "$INTEG_DIR/keepalive_client.py" "$TLS_PORT" "$pki/ca.pem" "$p" "$WORK/go-on" >"$WORK/keepalive.out" 2>&1 &
client=$!
_LIB_PIDS+=("$client")
for ((i = 0; i < 300; i++)); do grep -q '^first' "$WORK/keepalive.out" && break; sleep 0.1; done
assert_match "keep-alive client: first request over the original certificate" '^first 200 localhost$' \
  "$(head -1 "$WORK/keepalive.out")"
ln -s ..v2 "$k8s/..data_tmp" && mv -T "$k8s/..data_tmp" "$k8s/..data"
subject=""
for ((i = 0; i < 300; i++)); do
  subject="$(served_subject "$TLS_PORT" localhost)"
  [[ "$subject" =~ localhost-v2 ]] && break
  sleep 0.1
done
assert_match "after the ..data swap new connections get the new certificate (no reload)" 'localhost-v2' "$subject"
touch "$WORK/go-on"
wait "$client"; _forget_pid "$client"
assert_eq "the connection open across the swap still gets its answer" "second 200" "$(sed -n 2p "$WORK/keepalive.out")"
grep -q 'TLS certificates reloaded from disk' "$MODGATE_STDERR" && pass "modgate logged the certificate reload" ||
  fail "certificate reload log line" "missing"

# ---- a reload with a key that does not match is rejected ---------------------------------------
write_config "$WORK/bad.yaml" "$pki/other.key"
cp "$WORK/bad.yaml" "$WORK/modgate.yaml"
reload_post
if [[ "$RELOAD_CODE" == 400 && "$RELOAD_BODY" == *"listeners[0].tls.certificates[0].private_key_file"* ]]; then
  pass "a reload with a key that does not match its certificate is rejected naming the field"
else fail "bad key reload" "$RELOAD_CODE $RELOAD_BODY"; fi
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$pki/ca.pem" "$TLS_URL$p")"
assert_eq "still served after the rejected reload" 200 "$code"
modgate_alive && pass "modgate is alive at the end" || fail "modgate alive" "it exited"
finish
