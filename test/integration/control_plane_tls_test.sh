#!/usr/bin/env bash
# The xDS stream over TLS and mTLS (issue 10), with a test PKI made at test
# time:
#   - `modgate control-plane` with `tls` (a server certificate and a client
#     CA): a sidecar with an https:// URL, the CA, SNI and a client
#     certificate connects, ACKs, and serves the pushed config.
#   - Refused, each saying why in its /config_dump and absent from /fleet:
#     a sidecar without a client certificate, one whose certificate another
#     CA signed, one that verifies another server name (SNI).
#   - The control plane's certificate files replaced (a Secret update): new
#     connections get the new certificate, the open stream stays and still
#     receives pushes.
#   - Bad TLS settings are config errors naming the field, on both sides.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/tls_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cp_lib.sh"
integ_init
command -v openssl >/dev/null || die "the openssl command is missing"

start_origin
PKI="$WORK/pki"
make_pki "$PKI"
make_leaf "$PKI" intruder ca "/CN=intruder" "extendedKeyUsage=clientAuth" >>"$PKI/openssl.log" 2>&1 ||
  die "openssl could not make the intruder's certificate"
# The control plane's files live in their own directory, as a mounted
# Secret's would.
SECRET="$WORK/cp-tls"
mkdir -p "$SECRET"
cp "$PKI/localhost.pem" "$SECRET/tls.crt"
cp "$PKI/localhost.key" "$SECRET/tls.key"

DESIRED="$WORK/desired"
mkdir -p "$DESIRED"
write_desired() { # KNOB
  cat >"$DESIRED/config.yaml.tmp" <<YAML
clusters:
  - name: public
    endpoints: [{url: "$ORIGIN_URL"}]
routes:
  - name: blocked
    match: {prefix: example.com/blocked/}
    direct_response: {status: 403, body: "blocked by the fleet policy"}
  - name: all
    cluster: public
runtime:
  fleet.knob: $1
YAML
  mv "$DESIRED/config.yaml.tmp" "$DESIRED/config.yaml"
}
write_desired 1
write_cp_config "$WORK/cp.yaml" "$DESIRED" "tls:" \
  "  certificates: [{certificate_chain_file: $SECRET/tls.crt, private_key_file: $SECRET/tls.key}]" \
  "  client_ca_file: $PKI/client-ca.pem"
start_cp
assert_match "the control plane serves xDS over mTLS" "xDS on 127.0.0.1:$CP_PORT \(mTLS\)" "$(cat "$WORK/cp.log")"

# sidecar_config FILE [TLS YAML lines...]: a sidecar of this control plane.
sidecar_config() {
  local file="$1"; shift
  {
    printf '%s\n' "control_plane:" "  urls: [\"https://127.0.0.1:$CP_PORT\"]" \
      "  retry_base_interval: 0.1s" "  retry_max_interval: 1s" "  initial_fetch_timeout: 1s" "  tls:"
    printf '    %s\n' "$@"
    echo "concurrency: 1"
  } >"$file"
}
sidecar_config "$WORK/good.yaml" "ca_file: $PKI/ca.pem" "sni: localhost" \
  "client_certificate: {certificate_chain_file: $PKI/builder.pem, private_key_file: $PKI/builder.key}"
POD_NAME=tls-good start_modgate -c "$WORK/good.yaml" --cache-dir "$WORK/cache.good"
GOOD_ADMIN="$ADMIN_URL" GOOD_URL="$PROXY_URL"
if wait_until 60 fleet_synced 1; then
  pass "a sidecar with the CA, SNI and a client certificate connects over mTLS and ACKs"
else
  fail "the mTLS sidecar is in sync" "$(fleet | head -c 2000) $(sidecar_cp_status "$GOOD_ADMIN")"
fi
assert_match "its /config_dump: connected to the https:// URL" \
  "\"connected\":true,.*\"url\":\"https://127.0.0.1:$CP_PORT\"" "$(sidecar_cp_status "$GOOD_ADMIN")"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$GOOD_URL/example.com/blocked/x/@v/list")"
assert_eq "it serves the pushed route" 403 "$code"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$GOOD_URL/github.com/google/uuid/@v/list")"
assert_eq "... and the pushed cluster" 200 "$code"

# Refused sidecars: each keeps failing, says why, and never reaches /fleet.
refused() { # NAME CASE ERROR_REGEX TLS_LINES...
  local name="$1" case="$2" regex="$3"; shift 3
  sidecar_config "$WORK/$name.yaml" "$@"
  POD_NAME="$name" start_modgate -c "$WORK/$name.yaml" --cache-dir "$WORK/cache.$name"
  local admin="$ADMIN_URL"
  said_why() { [[ "$(sidecar_cp_status "$admin")" =~ \"connected\":false.*\"last_error\":\"[^\"]*($regex) ]]; }
  if wait_until 60 said_why; then
    log "$case: $(sidecar_cp_status "$admin" | grep -o '"last_error":"[^"]*"')"
    pass "$case: refused, and /config_dump says why"
  else
    fail "$case: refused, saying why" "$(sidecar_cp_status "$admin")"
  fi
  assert_eq "$case: not in /fleet" "" "$(fleet_node "$name" 'n["id"]')"
  stop_modgate
}
refused no-cert "no client certificate" "CERTIFICATE_REQUIRED" \
  "ca_file: $PKI/ca.pem"
refused intruder "a client certificate from another CA" "UNKNOWN_CA" \
  "ca_file: $PKI/ca.pem" \
  "client_certificate: {certificate_chain_file: $PKI/intruder.pem, private_key_file: $PKI/intruder.key}"
refused wrong-sni "SNI other.test against a certificate for localhost" "certificate verify failed: Hostname mismatch" \
  "ca_file: $PKI/ca.pem" "sni: other.test" \
  "client_certificate: {certificate_chain_file: $PKI/builder.pem, private_key_file: $PKI/builder.key}"

# A Secret update: the key and the certificate renamed over the old ones.
make_leaf "$PKI" renewed ca "/CN=renewed.localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  "extendedKeyUsage=serverAuth" >>"$PKI/openssl.log" 2>&1 || die "openssl could not make the renewed certificate"
cp "$PKI/renewed.key" "$SECRET/.tls.key.new" && mv "$SECRET/.tls.key.new" "$SECRET/tls.key"
cp "$PKI/renewed.pem" "$SECRET/.tls.crt.new" && mv "$SECRET/.tls.crt.new" "$SECRET/tls.crt"
renewed_served() {
  openssl s_client -connect "127.0.0.1:$CP_PORT" -servername localhost -alpn h2 \
    -cert "$PKI/builder.pem" -key "$PKI/builder.key" </dev/null 2>/dev/null |
    openssl x509 -noout -subject 2>/dev/null | grep -q "renewed.localhost"
}
if wait_until 60 renewed_served; then
  pass "the certificate files replaced: new connections get the new certificate"
else
  fail "the renewed certificate is served" "$(tail -5 "$WORK/cp.log")"
fi
generation="$(fleet_generation)"
write_desired 2
pushed() {
  (($(fleet_generation) > generation)) && fleet_synced 1 &&
    [[ "$(curl -s --max-time 5 "$GOOD_ADMIN/runtime")" == *'"fleet.knob":2'* ]]
}
if wait_until 60 pushed; then
  pass "the open stream stayed up and still receives pushes"
else
  fail "the open stream still receives pushes" "$(fleet | head -c 2000)"
fi
assert_eq "... on the same connection (one connect)" 1 \
  "$(curl -s --max-time 5 "$GOOD_ADMIN/stats/prometheus" | awk '/^modgate_control_plane_events_total\{event="connect"\}/ {print $2 + 0}')"
POD_NAME=tls-renewed start_modgate -c "$WORK/good.yaml" --cache-dir "$WORK/cache.renewed"
if wait_until 60 fleet_synced 2; then
  pass "a new sidecar connects with the renewed certificate"
else
  fail "a new sidecar connects with the renewed certificate" "$(fleet | head -c 2000)"
fi

# Bad settings name the field.
printf '%s\n' "config_dir: $DESIRED" "tls:" \
  "  certificates: [{certificate_chain_file: $SECRET/tls.crt, private_key_file: $SECRET/tls.key}]" \
  "  alpn_protocols: [http/1.1]" >"$WORK/bad-cp.yaml"
out="$(timeout -k 5 60 "$MODGATE" control-plane -c "$WORK/bad-cp.yaml" 2>&1)"
assert_match "control plane: ALPN without h2 is an error naming the field" "tls.alpn_protocols" "$out"
printf '%s\n' "config_dir: $DESIRED" "tls:" \
  "  certificates: [{certificate_chain_file: $PKI/missing.pem, private_key_file: $SECRET/tls.key}]" \
  >"$WORK/missing-cp.yaml"
out="$(timeout -k 5 60 "$MODGATE" control-plane -c "$WORK/missing-cp.yaml" 2>&1)"
assert_match "control plane: an unreadable certificate names the field" \
  "tls\.certificates\[0\]\.certificate_chain_file" "$out"
sidecar_config "$WORK/bad-sidecar.yaml" "ca_file: $PKI/ca.pem" \
  "client_certificate: {certificate_chain_file: $PKI/builder.pem}"
out="$("$MODGATE" validate -c "$WORK/bad-sidecar.yaml" 2>&1)"
assert_match "sidecar: a client certificate without its key names the field" \
  "control_plane\.tls\.client_certificate\.private_key_file: required" "$out"
finish
