#!/usr/bin/env bash
# Hot reload under load: 100 reloads alternating two valid configs that
# change routes (a fallback chain vs a direct cluster, reordered routes, a
# weighted route's weights) and cluster endpoint weights, triggered in turn
# by a rewrite of the file (inotify), SIGHUP and POST /reload, while h2load
# (HTTP/1.1 and h2c, long-lived keep-alive connections) and the go command
# (go mod download, go get, go build) run against modgate. Expected: every
# reload is applied exactly once (version_info N-<sha> after step N), zero
# failed/errored h2load requests, go succeeds, reload_total{success} = 100
# and {failure} = 0, and the origins kept serving under both configs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/reload_lib.sh"
integ_init
for t in h2load go; do command -v "$t" >/dev/null || die "$t is missing"; done

RELOADS="${RELOADS:-100}"
start_named_origin A
start_named_origin B
pick_ports 1
mkdir -p "$WORK/etc"

# Both configs serve every fixture module (A and B hold the same tree), so
# whichever config a request meets, it succeeds. A 1 ms list_ttl with no
# stale-while-revalidate sends (nearly) every @v/list upstream: the routes
# and clusters are exercised by the load, not only by cache misses. (Not
# 0s: a zero TTL reads as "the default" today.)
write_config() { # FILE VARIANT
  local pool_a pool_b heavy light google_action rest_action first_route
  if [[ "$2" == X ]]; then
    pool_a=1 pool_b=3 heavy=only_a light=only_b
    google_action="fallback: { steps: [ { cluster: only_a, on: NOT_FOUND }, { cluster: pool } ] }"
    rest_action="cluster: pool"
    first_route="google"
  else
    pool_a=3 pool_b=1 heavy=only_b light=only_a
    google_action="cluster: pool"
    rest_action="fallback: { steps: [ { cluster: only_b, on: ANY_ERROR }, { cluster: pool } ] }"
    first_route="spf13"
  fi
  local google="  - name: google
    match: { prefix: github.com/google }
    $google_action"
  local spf13="  - name: spf13
    match: { prefix: github.com/spf13 }
    weighted_clusters:
      clusters:
        - { cluster: $heavy, weight: 90 }
        - { cluster: $light, weight: 10 }"
  local routes
  if [[ "$first_route" == google ]]; then routes="$google
$spf13"; else routes="$spf13
$google"; fi
  cat >"$1" <<YAML
# variant $2
$(config_head)
  list_ttl: 1ms
  stale_while_revalidate: 0s
clusters:
  - name: pool
    endpoints:
      - { url: "${O_URL[A]}", weight: $pool_a }
      - { url: "${O_URL[B]}", weight: $pool_b }
  - name: only_a
    endpoints:
      - url: "${O_URL[A]}"
  - name: only_b
    endpoints:
      - url: "${O_URL[B]}"
routes:
$routes
  - name: rest
    $rest_action
sumdbs:
  - name: $GOSUMDB_NAME
YAML
}
write_config "$WORK/X.yaml" X
write_config "$WORK/Y.yaml" Y
cp "$WORK/X.yaml" "$WORK/etc/modgate.yaml"
start_modgate_file "$WORK/etc/modgate.yaml"
shadow_init
assert_eq "start: version 0-<sha of X>" "$(expected_version 0 "$WORK/X.yaml")" "$(dump_field version_info)"

# ---- load -------------------------------------------------------------------------
# Lists (upstream every time, through the routes) and cached .info/.mod.
awk '!/^#/ && NF >= 2 && $1 !~ /large/ { print $1, $2 }' "$FIXTURE/manifest.txt" | head -24 |
  while read -r m v; do
    e="$(go_escape "$m")"
    echo "$PROXY_URL/$e/@v/list"
    echo "$PROXY_URL/$e/@v/$v.info"
    echo "$PROXY_URL/$e/@v/$v.mod"
  done >"$WORK/uris"
log "load: $(wc -l <"$WORK/uris") URIs"
# Warm the cache so the load's .info/.mod are hits and its lists misses.
h2load -n "$(wc -l <"$WORK/uris")" -c 1 -i "$WORK/uris" >/dev/null 2>&1

# Batches of h2load until the reloads are done: HTTP/1.1 keep-alive and h2c
# with 8 streams per connection; each batch's connections live for many
# reloads.
touch "$WORK/load.run"
load_loop() { # NAME h2load-args...
  local name="$1" n=0; shift
  while [[ -e "$WORK/load.run" ]]; do
    n=$((n + 1))
    timeout -k 5 120 h2load "$@" -i "$WORK/uris" >"$WORK/h2load.$name.$n.out" 2>&1
    echo "$?" >"$WORK/h2load.$name.$n.rc"
  done
}
load_loop h1 --h1 -n 6000 -c 4 &
h1_pid=$!
load_loop h2c -n 12000 -c 4 -m 8 &
h2_pid=$!

go_env reload
app="$GO_HOME/work/app"
mkdir -p "$app"
write_demo_main "$app/main.go.txt"
mapfile -t all_modules < <(awk '!/^#/ && NF >= 2 && $1 !~ /large/ { print $1 "@" $2 }' "$FIXTURE/manifest.txt")
(
  cd "$app" || exit 1
  # Twice, each with an empty module cache: the go command keeps asking
  # modgate for the whole time the reloads run.
  for round in 1 2; do
    chmod -R u+w "$GOMODCACHE" 2>/dev/null; rm -rf "$GOMODCACHE" go.mod go.sum main.go
    timeout -k 5 200 go mod download -json "${all_modules[@]}" >"$WORK/go.dl.$round.json" || exit 11
    timeout -k 5 100 go mod init example.com/app || exit 12
    timeout -k 5 200 go get github.com/spf13/cobra@latest || exit 13
    cp main.go.txt main.go
    timeout -k 5 300 go build -o demo . || exit 14
    [[ "$(./demo)" == "$DEMO_OUTPUT" ]] || exit 15
    timeout -k 5 100 go mod verify || exit 16
  done
) >"$WORK/go.out" 2>&1 &
go_pid=$!

# ---- 100 reloads ------------------------------------------------------------------
sleep 1
bad_steps=0
for ((i = 1; i <= RELOADS; i++)); do
  if ((i % 2)); then src="$WORK/Y.yaml"; else src="$WORK/X.yaml"; fi
  want="$(expected_version "$i" "$src")"
  case $((i % 3)) in
    1) install_config "$src"; how=inotify ;;
    2) write_unseen "$src"; kill -HUP "$MODGATE_PID"; how=SIGHUP ;;
    0)
      write_unseen "$src"; reload_post; how=POST
      if [[ "$RELOAD_CODE" != 200 || "$RELOAD_BODY" != "$want" ]]; then
        echo "    step $i: POST /reload answered $RELOAD_CODE [$RELOAD_BODY], want 200 [$want]"
        bad_steps=$((bad_steps + 1))
      fi
      ;;
  esac
  if ! wait_until 60 version_is "$want"; then
    echo "    step $i ($how): version_info is [$(dump_field version_info)], want [$want]"
    bad_steps=$((bad_steps + 1))
    ((bad_steps > 5)) && break
  fi
  # Let requests run on each config for a moment.
  sleep 0.05
done
assert_eq "$RELOADS reloads (inotify, SIGHUP, POST /reload in turn) each applied once, in order" 0 "$bad_steps"
rm -f "$WORK/load.run"

wait "$go_pid"; go_rc=$?
if ((go_rc == 0)); then pass "go mod download/get/build/verify twice during the reloads"
else fail "go during the reloads" "exit $go_rc"; show_tail "$WORK/go.out" 20 "go output"; fi
wait "$h1_pid" "$h2_pid"

# ---- results ----------------------------------------------------------------------
h2load_summary() { # NAME: total succeeded, problems
  local name="$1" f total=0 ok=0 batches=0 problems=""
  for f in "$WORK"/h2load."$name".*.out; do
    batches=$((batches + 1))
    local req codes n
    req="$(grep '^requests:' "$f")"
    codes="$(grep '^status codes:' "$f")"
    n="$(sed -E 's/^requests: ([0-9]+) total.*/\1/' <<<"$req")"
    total=$((total + ${n:-0}))
    if [[ "$(cat "${f%.out}.rc")" == 0 && "$req" == *"$n succeeded, 0 failed, 0 errored, 0 timeout"* &&
      "$codes" == "status codes: $n 2xx"* ]]; then
      ok=$((ok + n))
    else
      problems+=" [$(basename "$f"): rc $(cat "${f%.out}.rc"); ${req:-no result}; ${codes:-no codes}]"
    fi
  done
  echo "$batches $total $ok$problems"
}
for name in h1 h2c; do
  read -r batches total ok problems <<<"$(h2load_summary "$name")"
  if ((total > 0 && total == ok)); then
    pass "h2load $name: $total requests in $batches batches across the reloads, all 2xx, 0 failed/errored/timeout"
  else
    fail "h2load $name" "$ok of $total succeeded in $batches batches:$problems"
  fi
done

assert_eq "modgate_config_reload_total{result=\"success\"}" "$RELOADS" "$(reload_count success)"
assert_eq "modgate_config_reload_total{result=\"failure\"}" 0 "$(reload_count failure)"
assert_eq "reload_sequence in /config_dump" "$RELOADS" "$(dump_field reload_sequence)"
na="$(count_paths "${O_LOG[A]}" '/@v/list$')" nb="$(count_paths "${O_LOG[B]}" '/@v/list$')"
if ((na > 100 && nb > 100)); then pass "both origins served lists under the reloads (A $na, B $nb)"
else fail "both origins served lists" "A $na, B $nb"; fi
if grep -qiE 'error|rejected' "$MODGATE_STDERR"; then
  fail "modgate logged no error" "$(grep -iE 'error|rejected' "$MODGATE_STDERR" | head -3)"
else pass "modgate logged no error"; fi
modgate_alive && pass "modgate still running" || fail "modgate still running" "exited"
finish
