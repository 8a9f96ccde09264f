#!/usr/bin/env bash
# The real go command downloads every module version of the fixture through
# modgate (checksum database through modgate's /sumdb/ too) and gets the
# fixture's go.sum hashes; version listing honours retractions; @latest works
# for a module with only a pseudo-version.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing (apt-get install golang-go)"

start_origin
start_modgate
go_env download
cd "$GO_HOME/work" || die "no work dir"

# Every "module version attrs zip=N" line of the manifest.
mapfile -t VERSIONS < <(awk '!/^#/ && NF >= 2 { print $1 "@" $2 }' "$FIXTURE/manifest.txt")
((${#VERSIONS[@]} > 0)) || die "no module versions in $FIXTURE/manifest.txt"
log "downloading ${#VERSIONS[@]} module versions"

# One go command for all of them; -json prints one object per version.
timeout -k 5 600 go mod download -json "${VERSIONS[@]}" >"$WORK/download.json" 2>"$WORK/download.err"
rc=$?
if ((rc == 0)); then pass "go mod download -json of ${#VERSIONS[@]} module versions exits 0"; else
  fail "go mod download -json of ${#VERSIONS[@]} module versions exits 0" "exit $rc"
  show_tail "$WORK/download.err" 30 "go stderr"
fi

# -> "path version sum gomodsum error" per object
python3 - "$WORK/download.json" >"$WORK/download.tsv" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
dec = json.JSONDecoder()
i = 0
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    obj, i = dec.raw_decode(text, i)
    err = (obj.get("Error") or "-").replace("\t", " ").replace("\n", " ")
    print("\t".join([obj.get("Path", "?"), obj.get("Version", "?"),
                     obj.get("Sum") or "-", obj.get("GoModSum") or "-", err]))
EOF

for mv in "${VERSIONS[@]}"; do
  m="${mv%@*}" v="${mv#*@}"
  want_sum="$(fixture_sum "$m" "$v")"
  want_mod="$(fixture_sum "$m" "$v/go.mod")"
  line="$(awk -F'\t' -v m="$m" -v v="$v" '$1 == m && $2 == v' "$WORK/download.tsv" | head -1)"
  if [[ -z "$line" ]]; then fail "download $mv" "no result from go mod download -json"; continue; fi
  IFS=$'\t' read -r _ _ got_sum got_mod err <<<"$line"
  if [[ "$err" != - ]]; then fail "download $mv" "go: $err"; continue; fi
  if [[ "$got_sum" == "$want_sum" && "$got_mod" == "$want_mod" ]]; then
    pass "download $mv: Sum and GoModSum match the fixture go.sum"
  else
    fail "download $mv" "Sum $got_sum GoModSum $got_mod; fixture go.sum has $want_sum $want_mod"
  fi
done

# The checksum database was reached through the proxy: the client remembers
# a tree as large as the manifest, and the origin saw the /sumdb/ traffic
# (modgate fetched it; the go command never talks to the origin).
tree="$(sed -n 2p "$GOPATH/pkg/sumdb/$GOSUMDB_NAME/latest" 2>/dev/null)"
assert_eq "go verified against the fixture checksum database (tree size)" "${#VERSIONS[@]}" "${tree:-none}"
n="$(origin_requests "/sumdb/$GOSUMDB_NAME/supported")"
if ((n >= 1)); then pass "sumdb 'supported' was fetched from the origin by modgate"; else
  fail "sumdb 'supported' was fetched from the origin by modgate" "origin saw it $n times"; fi
n="$(grep -c " /sumdb/$GOSUMDB_NAME/lookup/" "$ORIGIN_LOG")"
if ((n >= 1)); then pass "sumdb lookups were fetched from the origin by modgate ($n)"; else
  fail "sumdb lookups were fetched from the origin by modgate" "origin saw none"; fi

# Listing: retracted versions are left out by go list, kept with -retracted.
out="$(timeout 120 go list -m -versions github.com/fsnotify/fsnotify 2>&1)"
assert_eq "go list -m -versions fsnotify omits retracted versions" \
  "github.com/fsnotify/fsnotify v1.5.1 v1.5.4 v1.6.0" "$out"
out="$(timeout 120 go list -m -retracted -versions github.com/fsnotify/fsnotify 2>&1)"
assert_eq "go list -m -retracted -versions fsnotify lists all" \
  "github.com/fsnotify/fsnotify v1.5.0 v1.5.1 v1.5.3 v1.5.4 v1.6.0" "$out"
out="$(timeout 120 go list -m -versions gopkg.in/check.v1 2>&1)"
assert_eq "go list -m -versions gopkg.in/check.v1 (empty @v/list)" "gopkg.in/check.v1" "$out"
out="$(timeout 120 go list -m gopkg.in/check.v1@latest 2>&1)"
assert_eq "go list -m gopkg.in/check.v1@latest (from @latest)" \
  "gopkg.in/check.v1 $(awk '$1 == "gopkg.in/check.v1" && /latest/ { print $2 }' "$FIXTURE/manifest.txt")" "$out"
out="$(timeout 120 go list -m github.com/BurntSushi/toml@latest 2>&1)"
assert_eq "go list -m github.com/BurntSushi/toml@latest (upper case path)" \
  "github.com/BurntSushi/toml v1.2.0" "$out"
out="$(timeout 120 go list -m github.com/does-not/exist@latest 2>&1)"
if [[ "$out" == *"404 Not Found"* || "$out" == *"410 Gone"* ]]; then
  pass "an unknown module is a 404/410 the go command reports"
else fail "an unknown module is a 404/410 the go command reports" "go said: $out"; fi

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
