# shellcheck shell=bash
# shellcheck disable=SC2034  # variables here are read by the sourcing test scripts
# Test PKI for the downstream TLS tests (sourced after lib.sh). Made with the
# openssl command at test time; nothing is checked in.
#
#   make_pki DIR   DIR/ca.pem (server CA), DIR/client-ca.pem (client CA) and
#                  leaf certificates made with make_leaf.
#   make_leaf DIR NAME CA SUBJECT EXT...   DIR/NAME.pem and DIR/NAME.key, a
#                  P-256 leaf signed by CA (ca or client-ca) with the given
#                  extension lines (e.g. "subjectAltName=DNS:localhost").
#   plain_and_tls_listeners DIR   listeners YAML: plain PORTS[0], TLS PORTS[1].

make_ca() { # DIR NAME CN
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$1/$2.key" -out "$1/$2.pem" -days 2 -subj "/CN=$3" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}

make_leaf() { # DIR NAME CA SUBJECT EXT...
  local dir="$1" name="$2" ca="$3" subject="$4"; shift 4
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" "$@" >"$dir/$name.ext"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/$name.key" \
    -out "$dir/$name.csr" -subj "$subject" &&
    openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" \
      -CAcreateserial -out "$dir/$name.pem" -days 2 -extfile "$dir/$name.ext"
}

# make_pki DIR: a server CA with leaves "localhost" (DNS:localhost,
# IP:127.0.0.1) and "other" (DNS:other.test), and a client CA with leaf
# "builder" (URI SAN spiffe://ci.test/builder).
make_pki() {
  local dir="$1"
  mkdir -p "$dir"
  {
    make_ca "$dir" ca "modgate test server CA" &&
      make_ca "$dir" client-ca "modgate test client CA" &&
      make_leaf "$dir" localhost ca "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        "extendedKeyUsage=serverAuth" &&
      make_leaf "$dir" other ca "/CN=other.test" "subjectAltName=DNS:other.test" \
        "extendedKeyUsage=serverAuth" &&
      make_leaf "$dir" builder client-ca "/CN=builder/O=CI" "subjectAltName=URI:spiffe://ci.test/builder" \
        "extendedKeyUsage=clientAuth"
  } >"$dir/openssl.log" 2>&1 || { show_tail "$dir/openssl.log" 20; die "openssl could not make the test PKI"; }
}

# plain_and_tls_listeners PKI_DIR: the listeners YAML of a plain listener
# "main" on PORTS[0] and a TLS one "tls" on PORTS[1] serving PKI_DIR's
# "localhost" leaf (ALPN h2, http/1.1). For a heredoc, on a line of its own.
plain_and_tls_listeners() {
  cat <<YAML
listeners:
  - name: main
    address: 127.0.0.1:${PORTS[0]}
  - name: tls
    address: 127.0.0.1:${PORTS[1]}
    tls:
      certificates:
        - certificate_chain_file: $1/localhost.pem
          private_key_file: $1/localhost.key
YAML
}

# served_subject PORT [SNI]: the subject of the certificate served.
served_subject() {
  local sni=(); [[ -n "${2:-}" ]] && sni=(-servername "$2")
  openssl s_client -connect "127.0.0.1:$1" "${sni[@]}" </dev/null 2>/dev/null |
    openssl x509 -noout -subject 2>/dev/null
}
