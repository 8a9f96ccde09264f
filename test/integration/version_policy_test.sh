#!/usr/bin/env bash
# Version policy (issue 11, part 3): retracted versions and versions a
# policy denies never appear in @v/list, @latest never names one, and the
# real go command sees only the allowed versions. The fixture's
# github.com/fsnotify/fsnotify retracts v1.5.0 and v1.5.3 in its latest
# go.mod (v1.6.0). Policies:
#   - refuse-retracted: DENY retracted versions of fsnotify (listed and by name);
#   - hide-bad-toml: DENY BurntSushi/toml v1.2.0, hide_only (the latest
#     release): gone from the list, @latest falls back to v1.1.0, but a
#     go.sum pin of v1.2.0 still downloads;
#   - no-pseudo: DENY pseudo-versions of gopkg.in/check.v1, whose only
#     version is one: @latest is 403, not a pointer at it;
#   - bad-cmp: DENY go-cmp v0.5.9 (its latest): the .zip is 403 and @latest is v0.5.8.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$INTEG_DIR/reload_lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing"

start_origin
pick_ports 1
cat >"$WORK/modgate.yaml" <<YAML
listeners:
  - name: main
    address: 127.0.0.1:${PORTS[0]}
$(origin_yaml)
sumdbs:
  - name: $GOSUMDB_NAME
    key: $GOSUMDB_KEY
module_policies:
  - name: refuse-retracted
    action: DENY
    modules: github.com/fsnotify/fsnotify
    retracted: true
  - name: hide-bad-toml
    action: DENY
    modules: github.com/BurntSushi/toml
    versions: [v1.2.0]
    hide_only: true
  - name: no-pseudo
    action: DENY
    modules: gopkg.in/check.v1
    pseudo_versions: true
  - name: bad-cmp
    action: DENY
    modules: github.com/google/go-cmp
    versions: [v0.5.9]
YAML
start_modgate_file "$WORK/modgate.yaml"

# body_of PATH: status and body on one line ("200 v1.5.1 v1.5.4 v1.6.0").
body_of() {
  local code
  code="$(http_get "$PROXY_URL$1" "$WORK/last.body")"
  echo "$code $(tr '\n' ' ' <"$WORK/last.body" | sed 's/ $//')"
}

# ---- @v/list and @latest over HTTP --------------------------------------------
assert_eq "fsnotify @v/list leaves out the retracted v1.5.0 and v1.5.3" \
  "200 v1.5.1 v1.5.4 v1.6.0" "$(body_of /github.com/fsnotify/fsnotify/@v/list)"
assert_eq "toml @v/list leaves out the hidden v1.2.0" \
  "200 v1.1.0" "$(body_of /github.com/!burnt!sushi/toml/@v/list)"
assert_match "toml @latest is v1.1.0's .info, not the origin's v1.2.0" \
  '^200 \{"Version":"v1\.1\.0"' "$(body_of /github.com/!burnt!sushi/toml/@latest)"
assert_match "go-cmp @latest is v0.5.8 (v0.5.9 is denied)" \
  '^200 \{"Version":"v0\.5\.8"' "$(body_of /github.com/google/go-cmp/@latest)"
assert_match "check.v1 @latest: its only version is a denied pseudo-version, so 403" \
  '^403 modgate: module gopkg\.in/check\.v1@latest \(v0\.0\.0-20161208181325-20d25e280405\) is blocked by policy "no-pseudo"' \
  "$(body_of /gopkg.in/check.v1/@latest)"
assert_match "fsnotify @latest (v1.6.0, not retracted) is the origin's answer" \
  '^200 \{"Version":"v1\.6\.0"' "$(body_of /github.com/fsnotify/fsnotify/@latest)"
assert_eq "a module no rule filters is listed as the origin lists it" \
  "200 v1.1.0 v1.2.0 v1.3.0" "$(body_of /github.com/google/uuid/@v/list)"
assert_match "a retracted version by name: 403" \
  '^403 modgate: module github\.com/fsnotify/fsnotify is blocked by policy "refuse-retracted"' \
  "$(body_of /github.com/fsnotify/fsnotify/@v/v1.5.3.info)"
assert_match "a retracted version's sumdb lookup: 403" '^403 ' \
  "$(body_of "/sumdb/$GOSUMDB_NAME/lookup/github.com/fsnotify/fsnotify@v1.5.0")"
assert_match "a hidden version by name is still served" '^200 \{"Version":"v1\.2\.0"' \
  "$(body_of /github.com/!burnt!sushi/toml/@v/v1.2.0.info)"
n="$(origin_count 'fsnotify/@v/v1\.5\.[03]\.(info|mod|zip)')"
assert_eq "the origin was never asked for a retracted fsnotify version" 0 "$n"

# ---- the go command ---------------------------------------------------------------
go_env list
cd "$GO_HOME/work" || die "no work dir"
out="$(timeout 120 go list -m -retracted -versions github.com/fsnotify/fsnotify 2>&1)"
assert_eq "go list -m -retracted -versions fsnotify: the proxy hides the retracted ones" \
  "github.com/fsnotify/fsnotify v1.5.1 v1.5.4 v1.6.0" "$out"
out="$(timeout 120 go list -m -versions github.com/BurntSushi/toml 2>&1)"
assert_eq "go list -m -versions toml: no v1.2.0" "github.com/BurntSushi/toml v1.1.0" "$out"
out="$(timeout 120 go list -m -versions github.com/google/go-cmp 2>&1)"
assert_eq "go list -m -versions go-cmp: no v0.5.9" "github.com/google/go-cmp v0.5.8" "$out"

go mod init example.com/app >/dev/null 2>&1
if timeout 300 go get github.com/google/go-cmp@latest github.com/BurntSushi/toml@latest >"$WORK/get.out" 2>&1; then
  got="$(go list -m github.com/google/go-cmp github.com/BurntSushi/toml 2>&1 | tr '\n' ' ')"
  assert_eq "go get ...@latest picks the highest allowed versions" \
    "github.com/google/go-cmp v0.5.8 github.com/BurntSushi/toml v1.1.0 " "$got"
else
  fail "go get ...@latest" "$(tail -3 "$WORK/get.out")"
fi
if timeout 120 go get github.com/google/go-cmp@v0.5.9 >"$WORK/get.out" 2>&1; then
  fail "go get a denied version" "it succeeded"
else
  grep -qF 'modgate: module github.com/google/go-cmp is blocked by policy "bad-cmp"' "$WORK/get.out" &&
    pass "go get go-cmp@v0.5.9 fails with the policy's reason" ||
    fail "go get go-cmp@v0.5.9" "$(tail -2 "$WORK/get.out")"
fi
if timeout 120 go get github.com/fsnotify/fsnotify@v1.5.3 >"$WORK/get.out" 2>&1; then
  fail "go get a retracted version" "it succeeded"
else
  grep -qF 'blocked by policy "refuse-retracted"' "$WORK/get.out" &&
    pass "go get fsnotify@v1.5.3 (retracted) fails with the policy's reason" ||
    fail "go get fsnotify@v1.5.3" "$(tail -2 "$WORK/get.out")"
fi
cd "$WORK" || die "no work dir"
go_env pinned
(cd "$GO_HOME/work" && go_download_sums "a go.sum pin of the hidden toml v1.2.0 still downloads (hide_only)" \
  github.com/BurntSushi/toml@v1.2.0 github.com/fsnotify/fsnotify@v1.6.0)

modgate_alive && pass "modgate is alive at the end" || fail "modgate alive" "it exited"
finish
