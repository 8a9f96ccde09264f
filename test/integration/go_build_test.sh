#!/usr/bin/env bash
# A program importing uuid, cobra and testify resolves, downloads, builds,
# runs and verifies entirely through modgate (the fixture README's worked
# example).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing (apt-get install golang-go)"

start_origin
start_modgate
go_env build
app="$GO_HOME/work/app"
mkdir -p "$app" && cd "$app" || die "cannot make $app"

check "go mod init example.com/app" --timeout 60 -- go mod init example.com/app

check "go get github.com/spf13/cobra@latest" --timeout 300 -- go get github.com/spf13/cobra@latest
assert_eq "go.mod requires cobra's latest (v1.6.1)" "v1.6.1" \
  "$(awk '$1 == "github.com/spf13/cobra" { print $2 }' go.mod)"

write_demo_main main.go

# go build adds the missing requirements (GOFLAGS=-mod=mod), resolving
# the import paths by probing prefixes through the proxy.
if check "go build (resolves uuid and testify through the proxy)" --timeout 600 -- go build -o demo .; then
  out="$(timeout 30 ./demo 2>&1)"
  assert_eq "the program runs" "$DEMO_OUTPUT" "$out"
else
  fail "the program runs" "not built"
fi
assert_eq "go.mod requires uuid v1.3.0" "v1.3.0" "$(awk '$1 == "github.com/google/uuid" { print $2 }' go.mod)"
assert_eq "go.mod requires testify v1.8.1" "v1.8.1" "$(awk '$1 == "github.com/stretchr/testify" { print $2 }' go.mod)"

# Every go.sum line the build wrote is the fixture's.
bad=0
while read -r m v h; do
  [[ "$(fixture_sum "$m" "$v")" == "$h" ]] || { echo "    go.sum: $m $v $h not in the fixture go.sum"; bad=$((bad + 1)); }
done <go.sum
assert_eq "every go.sum line ($(wc -l <go.sum)) equals the fixture's" 0 "$bad"

if check "go mod verify" --timeout 120 -- go mod verify; then
  assert_eq "go mod verify says all modules verified" "all modules verified" "$(cat "$WORK/check.out")"
fi

# Probing import-path prefixes must have produced 404s, not errors.
prefix="$(timeout 30 curl -s -o /dev/null -w '%{http_code}' "$PROXY_URL/github.com/stretchr/testify/assert/@v/list")"
assert_match "a package path that is no module is 404/410 (was $prefix)" '^(404|410)$' "$prefix"

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
