#!/usr/bin/env bash
# Broken configs are rejected and the old one keeps serving: a YAML syntax
# error, a value of the wrong type, a route to a missing cluster, fields
# that require a restart, and a new listener whose address is taken. For
# each, POST /reload answers 400 naming the field (or line), the log says
# the same, modgate_config_reload_total{result="failure"} grows by one,
# /config_dump keeps the old version and shows the error as
# last_failed_reload, and requests are still served. SIGHUP and a file
# change with a broken file count one failure each (the watcher does not
# retry the same bytes); the good file then reloads. A modgate running the
# built-in config (no -c) answers /reload 400: nothing to reload.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/reload_lib.sh"
integ_init

start_named_origin A
pick_ports 2
mkdir -p "$WORK/etc"
CONFIG="$WORK/etc/modgate.yaml"
cat >"$WORK/good.yaml" <<EOF
$(config_head)
clusters:
  - name: one
    endpoints:
      - url: "${O_URL[A]}"
routes:
  - name: all
    cluster: one
EOF
cp "$WORK/good.yaml" "$CONFIG"
start_modgate_file "$CONFIG"
shadow_init
V0="$(expected_version 0 "$WORK/good.yaml")"
assert_eq "start: version_info" "$V0" "$(dump_field version_info)"

served() { [[ "$(http_get "$PROXY_URL/github.com/google/uuid/@v/v1.3.0.info")" == 200 ]]; }
served && pass "serving before any reload" || fail "serving before any reload" "not 200"

failures_reach() { [[ "$(reload_count failure)" == "$1" ]]; }

# broken_case NAME FILE EXPECTED_REGEX: POST /reload of FILE is rejected.
broken_case() {
  local name="$1" file="$2" re="$3" before after log_hit err
  before="$(reload_count failure)"
  write_unseen "$file"
  reload_post
  if [[ "$RELOAD_CODE" == 400 && "$RELOAD_BODY" =~ $re ]]; then
    pass "$name: POST /reload 400 naming it [$(head -1 <<<"$RELOAD_BODY")]"
  else
    fail "$name: POST /reload" "code $RELOAD_CODE body [$RELOAD_BODY], want 400 matching /$re/"
  fi
  after="$(reload_count failure)"
  assert_eq "$name: failure counter +1" "$((before + 1))" "$after"
  log_hit="$(grep -cE "$re" "$MODGATE_STDERR")"
  if ((log_hit > 0)); then pass "$name: logged with the field"
  else fail "$name: logged" "no line matching /$re/ in the log"; fi
  assert_eq "$name: /config_dump still the old version" "$V0" "$(dump_field version_info)"
  err="$(dump_field last_failed_reload error)"
  if [[ "$err" =~ $re ]]; then pass "$name: /config_dump last_failed_reload names it"
  else fail "$name: last_failed_reload" "[$err]"; fi
  if served; then pass "$name: traffic still served on the old config"
  else fail "$name: traffic still served" "not 200"; fi
}

printf 'listeners: [\n  - name: main\n' >"$WORK/syntax.yaml"
broken_case "YAML syntax error" "$WORK/syntax.yaml" "modgate.yaml: line [0-9]+, column [0-9]+"

sed 's/^concurrency: 2/concurrency: two/' "$WORK/good.yaml" >"$WORK/type.yaml"
broken_case "wrong type" "$WORK/type.yaml" "modgate.yaml: line [0-9]+: concurrency: "

sed 's/    cluster: one/    cluster: missing/' "$WORK/good.yaml" >"$WORK/missing.yaml"
broken_case "route to a missing cluster" "$WORK/missing.yaml" \
  'routes\[0\]\.cluster: unknown cluster "missing"'

sed -e 's/^concurrency: 2/concurrency: 3/' "$WORK/good.yaml" >"$WORK/restart.yaml"
broken_case "concurrency changed" "$WORK/restart.yaml" "concurrency: 2 -> 3: requires a restart"

sed -e "s|  dir: $WORK/cache|  dir: $WORK/cache2|" "$WORK/good.yaml" >"$WORK/cachedir.yaml"
broken_case "cache.dir changed" "$WORK/cachedir.yaml" 'cache\.dir: .* -> .*cache2": requires a restart'

# A listener whose port another process holds (without SO_REUSEPORT).
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
open(sys.argv[2], "w").close(); time.sleep(120)' "${PORTS[1]}" "$WORK/squatter.ready" &
squatter=$!
_LIB_PIDS+=("$squatter")
wait_until 60 test -e "$WORK/squatter.ready" || die "port squatter did not start"
awk -v p="${PORTS[1]}" '{ print } /^    address: 127.0.0.1:/ && !done { print "  - name: second"; print "    address: 127.0.0.1:" p; done = 1 }' \
  "$WORK/good.yaml" >"$WORK/bind.yaml"
broken_case "new listener on a taken port" "$WORK/bind.yaml" \
  "listeners\[1\]\.address: cannot listen on 127\.0\.0\.1:${PORTS[1]}: Address already in use"
kill "$squatter" 2>/dev/null

# SIGHUP with a broken file: one failure, logged.
before="$(reload_count failure)"
write_unseen "$WORK/missing.yaml"
kill -HUP "$MODGATE_PID"
if wait_until 60 failures_reach "$((before + 1))"; then
  pass "SIGHUP with a broken file: one failure counted"
else fail "SIGHUP with a broken file" "failures $(reload_count failure), want $((before + 1))"; fi
assert_eq "after the broken SIGHUP: version unchanged" "$V0" "$(dump_field version_info)"

# The watcher: a broken file written by rename is tried once, not again on
# later events in the directory.
before="$(reload_count failure)"
install_config "$WORK/restart.yaml"
wait_until 60 failures_reach "$((before + 1))"
touch "$CONFIG"
echo unrelated >"$WORK/etc/other.txt"
sleep 1
assert_eq "file change to a broken config: exactly one failure" "$((before + 1))" "$(reload_count failure)"
assert_eq "after the broken file change: version unchanged" "$V0" "$(dump_field version_info)"
if served; then pass "still served after every rejection"; else fail "still served" "not 200"; fi

# Back to a good file: reloads, and the last failure stays visible.
install_config "$WORK/good.yaml"
wait_until 60 version_is "$(expected_version 1 "$WORK/good.yaml")"
assert_eq "good file again: reloaded by the watcher" "$(expected_version 1 "$WORK/good.yaml")" \
  "$(dump_field version_info)"
reload_post
assert_eq "then POST /reload: 200 with the next version" "200 $(expected_version 2 "$WORK/good.yaml")" \
  "$RELOAD_CODE $RELOAD_BODY"
assert_eq "successes" 2 "$(reload_count success)"
if [[ -n "$(dump_field last_failed_reload error)" ]]; then pass "last_failed_reload still shown after a success"
else fail "last_failed_reload after a success" "absent"; fi
_kill_pid "$MODGATE_PID" 10
_forget_pid "$MODGATE_PID"

# The built-in config has no file to read.
start_origin
start_modgate
reload_post
if [[ "$RELOAD_CODE" == 400 && "$RELOAD_BODY" == *"no config file"* ]]; then
  pass "built-in config: POST /reload 400 [$RELOAD_BODY]"
else fail "built-in config: POST /reload" "$RELOAD_CODE [$RELOAD_BODY]"; fi
finish
