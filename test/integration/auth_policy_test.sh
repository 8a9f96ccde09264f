#!/usr/bin/env bash
# Client auth and module policy (issue 11, parts 2 and 3), with the real go
# command. A listener that requires authentication answers 401 with
# WWW-Authenticate; the go command gets in with HTTP Basic credentials from
# ~/.netrc (a PBKDF2-SHA256 entry in the credentials file) and curl with a
# Bearer token (a salted SHA-256 entry). Module policies deny a module path,
# a known-bad version and pseudo-versions, and let only the "ci" token
# fetch golang.org/x/sys; the go command prints the one-line 403 reason; a
# denied module is never asked of the origin, checksum-database lookups
# included; a policy added by reload also covers cached modules. The
# credentials file reloads when it changes, and no secret reaches the log.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$INTEG_DIR/cluster_lib.sh"
source "$INTEG_DIR/reload_lib.sh"
source "$INTEG_DIR/tls_lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing"
# The go command sends .netrc credentials over https only, so the listener
# speaks TLS (certificates made here; curl and go trust the test CA).
make_pki "$WORK/pki"
export CURL_CA_BUNDLE="$WORK/pki/ca.pem"

# hash_line KIND NAME SECRET SCHEME: a credentials file line.
hash_line() {
  python3 - "$@" <<'PY'
import base64, hashlib, os, sys
kind, name, secret, scheme = sys.argv[1:5]
salt = os.urandom(16)
b = lambda x: base64.b64encode(x).decode()
if scheme == "pbkdf2":
    print(kind, name, "pbkdf2-sha256$10000$%s$%s" % (b(salt), b(hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, 10000))))
else:
    print(kind, name, "sha256$%s$%s" % (b(salt), b(hashlib.sha256(salt + secret.encode()).digest())))
PY
}
PASSWORD="alice-$RANDOM-secret"
TOKEN="tok$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
{
  echo "# test credentials"
  hash_line basic alice "$PASSWORD" pbkdf2
  hash_line bearer ci "$TOKEN" sha256
} >"$WORK/credentials"

start_origin
pick_ports 1
# write_config FILE [EXTRA_POLICY_YAML]
write_config() {
  cat >"$1" <<YAML
listeners:
  - name: main
    address: 127.0.0.1:${PORTS[0]}
    require_auth: true
    tls:
      certificates:
        - certificate_chain_file: $WORK/pki/localhost.pem
          private_key_file: $WORK/pki/localhost.key
$(origin_yaml)
sumdbs:
  - name: $GOSUMDB_NAME
client_auth:
  credentials_file: $WORK/credentials
module_policies:
  - name: no-forks
    action: DENY
    modules: github.com/pkg/errors
  - name: bad-version
    action: DENY
    modules: github.com/BurntSushi/toml
    versions: [v1.2.0]
  - name: no-pseudo
    action: DENY
    modules: gopkg.in/check.v1
    pseudo_versions: true
  - name: ci-may-use-sys
    action: ALLOW
    modules: golang.org/x/sys
    principals: ["token:ci"]
  - name: sys-is-for-ci
    action: DENY
    modules: golang.org/x/sys
${2:-}
YAML
}
write_config "$WORK/modgate.yaml"
start_modgate_file "$WORK/modgate.yaml"
PROXY_URL="https://localhost:${PORTS[0]}"
p=/github.com/google/uuid/@v/v1.3.0.info

# ---- 401 and WWW-Authenticate -------------------------------------------------
code="$(http_get "$PROXY_URL$p")"
if [[ "$code" == 401 && "$(header WWW-Authenticate)" == *'realm="modgate"'* ]] &&
  grep -qi '^www-authenticate: Basic realm="modgate"' "$WORK/last.headers"; then
  pass "anonymous request: 401 with WWW-Authenticate: Basic realm=\"modgate\""
else fail "anonymous 401" "status $code, headers $(tr '\r\n' '  ' <"$WORK/last.headers")"; fi
code="$(http_get "$PROXY_URL$p" "$WORK/last.body" -u "alice:wrong")"
assert_eq "wrong password: 401" 401 "$code"
code="$(http_get "$PROXY_URL$p" "$WORK/last.body" -u "alice:$PASSWORD")"
assert_eq "Basic alice with the right password: 200" 200 "$code"
code="$(http_get "$PROXY_URL$p" "$WORK/last.body" -H "Authorization: Bearer $TOKEN")"
assert_eq "Bearer token of \"ci\": 200" 200 "$code"
code="$(http_get "$PROXY_URL$p" "$WORK/last.body" -H "Authorization: Bearer ${TOKEN}x")"
assert_eq "unknown Bearer token: 401" 401 "$code"

# ---- the go command: without and with .netrc ---------------------------------------
go_env anon
export SSL_CERT_FILE="$WORK/pki/ca.pem"
if (cd "$GO_HOME/work" && timeout 120 go mod download -x github.com/google/uuid@v1.3.0 >"$WORK/anon.out" 2>&1); then
  fail "go without credentials" "download succeeded"
else
  grep -q '401' "$WORK/anon.out" && pass "go without credentials fails with 401" ||
    fail "go without credentials" "$(tail -2 "$WORK/anon.out")"
fi
go_env netrc
printf 'machine localhost login alice password %s\n' "$PASSWORD" >"$HOME/.netrc"
chmod 600 "$HOME/.netrc"
(cd "$GO_HOME/work" && go_download_sums "go mod download with ~/.netrc credentials (Basic, PBKDF2 entry): sums match" \
  github.com/google/uuid@v1.3.0 github.com/patrickmn/go-cache@v2.1.0+incompatible)

# ---- module policy through the go command ----------------------------------------------
# go_denied CASE MODULE@VERSION POLICY
go_denied() {
  local out="$WORK/denied.out" want="modgate: module ${2%@*} is blocked by policy \"$3\""
  if (cd "$GO_HOME/work" && timeout 120 go mod download "$2" >"$out" 2>&1); then
    fail "$1" "download succeeded"
  elif grep -qF "$want" "$out"; then pass "$1: go prints [$want]"
  else fail "$1" "go said: $(tail -2 "$out")"; fi
}
go_denied "a denied module path" github.com/pkg/errors@v0.9.1 no-forks
go_denied "a denied version" github.com/BurntSushi/toml@v1.2.0 bad-version
go_denied "a pseudo-version of a path that denies them" gopkg.in/check.v1@v0.0.0-20161208181325-20d25e280405 no-pseudo
go_denied "golang.org/x/sys for alice (only the ci token may)" golang.org/x/sys@v0.3.0 sys-is-for-ci
code="$(http_get "$PROXY_URL/golang.org/x/sys/@v/v0.3.0.info" "$WORK/last.body" -H "Authorization: Bearer $TOKEN")"
assert_eq "golang.org/x/sys for the ci token: 200" 200 "$code"
for q in "/github.com/pkg/errors/@v/list" "/github.com/pkg/errors/@latest" \
  "/sumdb/$GOSUMDB_NAME/lookup/github.com/pkg/errors@v0.9.1"; do
  code="$(http_get "$PROXY_URL$q" "$WORK/last.body" -u "alice:$PASSWORD")"
  assert_eq "denied module on $q: 403" 403 "$code"
done
code="$(http_get "$PROXY_URL/github.com/!burnt!sushi/toml/@v/list" "$WORK/last.body" -u "alice:$PASSWORD")"
assert_eq "a version rule does not block the module's @v/list" 200 "$code"
n="$(origin_count 'pkg/errors')"
assert_eq "the origin never saw github.com/pkg/errors (GOPROXY or sumdb)" 0 "$n"
n="$(origin_count 'check\.v1/@v/v0\.0\.0')"
assert_eq "the origin never saw the denied pseudo-version" 0 "$n"

# ---- a policy added by reload holds for cached modules ------------------------------------
q=/github.com/patrickmn/go-cache/@v/v2.1.0+incompatible.zip
code="$(http_get "$PROXY_URL$q" "$WORK/last.body" -u "alice:$PASSWORD")"
assert_eq "go-cache zip is served (cached: $(header X-Cache))" 200 "$code"
write_config "$WORK/next.yaml" "  - name: no-go-cache
    action: DENY
    modules: github.com/patrickmn/go-cache"
cp "$WORK/next.yaml" "$WORK/modgate.yaml"
reload_post
assert_eq "reload with a new policy" 200 "$RELOAD_CODE"
code="$(http_get "$PROXY_URL$q" "$WORK/last.body" -u "alice:$PASSWORD")"
assert_match "the cached go-cache zip is now 403 by policy" '^403 modgate: module github.com/patrickmn/go-cache is blocked by policy "no-go-cache"$' \
  "$code $(cat "$WORK/last.body")"

# ---- the credentials file reloads ----------------------------------------------------------
code="$(http_get "$PROXY_URL$p" "$WORK/last.body" -u "bob:bobs-secret")"
assert_eq "bob is unknown: 401" 401 "$code"
hash_line basic bob bobs-secret sha256 >>"$WORK/credentials.new"
cat "$WORK/credentials" "$WORK/credentials.new" >"$WORK/credentials.tmp" && mv "$WORK/credentials.tmp" "$WORK/credentials"
for ((i = 0; i < 100; i++)); do
  code="$(http_get "$PROXY_URL$p" "$WORK/last.body" -u "bob:bobs-secret")"
  [[ "$code" == 200 ]] && break
  sleep 0.1
done
assert_eq "after the credentials file changed bob gets in (no reload)" 200 "$code"

# ---- no secret in the log or the config dump -------------------------------------------------
if grep -qF -e "$PASSWORD" -e "$TOKEN" -e "bobs-secret" "$MODGATE_STDERR" ||
  curl -s "$ADMIN_URL/config_dump" | grep -qF -e "$PASSWORD" -e "$TOKEN"; then
  fail "secrets kept out of the log and /config_dump" "found one"
else pass "no password or token in modgate's log or /config_dump"; fi
modgate_alive && pass "modgate is alive at the end" || fail "modgate alive" "it exited"
finish
