# shellcheck shell=bash
# shellcheck disable=SC2034  # variables here are read by the sourcing test scripts
# Helpers for the config reload tests. Sourced after lib.sh and
# cluster_lib.sh:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
#   source "$(dirname "${BASH_SOURCE[0]}")/reload_lib.sh"
#
# These tests start modgate with `-c FILE` only: lib.sh's start_modgate adds
# --listen/--admin/--cache-dir, and command-line overrides are re-applied at
# every reload, so a reload could never change the listeners. The config
# files carry the ports (pick_ports) and the cache dir themselves.

# pick_ports N: PORTS[0..N-1], distinct free ports; ADMIN_PORT one more.
pick_ports() {
  local n="$1" p i
  PORTS=()
  while ((${#PORTS[@]} < n + 1)); do
    p="$(free_port)"
    for i in "${PORTS[@]}"; do [[ "$i" == "$p" ]] && continue 2; done
    PORTS+=("$p")
  done
  ADMIN_PORT="${PORTS[$n]}"
  unset "PORTS[$n]"
  ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
  PROXY_URL="http://127.0.0.1:${PORTS[0]}"
}

# start_modgate_file CONFIG [flags]: modgate -c CONFIG, waits for /ready.
# Sets MODGATE_PID MODGATE_STDERR MODGATE_CONFIG.
start_modgate_file() {
  MODGATE_CONFIG="$1"; shift
  local extra=("$@") i code
  [[ -n "${MODGATE_LOG_LEVEL:-}" ]] && extra+=(--log-level "$MODGATE_LOG_LEVEL")
  # shellcheck disable=SC2206
  [[ -n "${MODGATE_EXTRA_ARGS:-}" ]] && extra+=($MODGATE_EXTRA_ARGS)
  _MODGATE_N=$((_MODGATE_N + 1))
  MODGATE_STDERR="$WORK/modgate.$_MODGATE_N.log"
  # MODGATE_WRAPPER (an array, e.g. (prlimit --nofile=64:64 --)) runs
  # modgate through a command that execs it, so $! is still modgate.
  ${MODGATE_WRAPPER[@]+"${MODGATE_WRAPPER[@]}"} "$MODGATE" -c "$MODGATE_CONFIG" "${extra[@]}" >"$MODGATE_STDERR" 2>&1 &
  MODGATE_PID=$!
  _LIB_PIDS+=("$MODGATE_PID")
  for ((i = 0; i < ${MODGATE_READY_TIMEOUT:-120} * 10; i++)); do
    kill -0 "$MODGATE_PID" 2>/dev/null || die "modgate exited at start: $(tail -3 "$MODGATE_STDERR")"
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$ADMIN_URL/ready")"
    if [[ "$code" == 200 ]]; then
      log "modgate -c $MODGATE_CONFIG on $PROXY_URL admin $ADMIN_URL (pid $MODGATE_PID)"
      return 0
    fi
    sleep 0.1
  done
  die "modgate not ready within ${MODGATE_READY_TIMEOUT:-120}s"
}

# dump_field KEY...: a field of admin /config_dump ("" when absent).
dump_field() {
  json_field "$(curl -s --max-time 5 "$ADMIN_URL/config_dump")" "$@"
}

# expected_version SEQUENCE FILE: the version_info modgate reports after
# loading FILE as its SEQUENCE-th reload.
expected_version() { echo "$1-$(sha256sum "$2" | cut -c1-12)"; }

# reload_post: POST /reload; RELOAD_CODE and RELOAD_BODY.
reload_post() {
  RELOAD_BODY="$(curl -s --max-time 30 -X POST -o - -w '\n%{http_code}' "$ADMIN_URL/reload")"
  RELOAD_CODE="${RELOAD_BODY##*$'\n'}"
  RELOAD_BODY="${RELOAD_BODY%$'\n'*}"
  RELOAD_BODY="${RELOAD_BODY%$'\n'}"
}

# reload_count RESULT: modgate_config_reload_total{result=RESULT}.
reload_count() { prom_value modgate_config_reload_total "result=$1"; }

# install_config SRC: replaces MODGATE_CONFIG the way editors do (write a
# temp file, rename it over): modgate's inotify watch sees it.
install_config() {
  local tmp
  tmp="$(dirname "$MODGATE_CONFIG")/.$(basename "$MODGATE_CONFIG").tmp.$$"
  cp "$1" "$tmp" && mv -f "$tmp" "$MODGATE_CONFIG"
  [[ -n "${SHADOW_LINK:-}" ]] && ln -f "$MODGATE_CONFIG" "$SHADOW_LINK"
  return 0
}

# shadow_init: a hard link to MODGATE_CONFIG in another directory, through
# which write_unseen edits the file. inotify reports a change to the
# directory the writer opened the file through, so modgate's watch on the
# config's directory does not see these writes: a SIGHUP or POST /reload
# then is the only trigger, and each step is exactly one reload.
shadow_init() {
  mkdir -p "$WORK/shadow"
  SHADOW_LINK="$WORK/shadow/$(basename "$MODGATE_CONFIG")"
  ln -f "$MODGATE_CONFIG" "$SHADOW_LINK"
}

# write_unseen SRC: rewrites the config in place through the shadow link.
write_unseen() { cat "$1" >"$SHADOW_LINK"; }

# version_is VERSION: /config_dump reports VERSION now.
version_is() { [[ "$(dump_field version_info)" == "$1" ]]; }

# config_head: the start every reload test config shares: listener "main"
# on PORTS[0], the admin port, two workers and the cache dir, ending inside
# the cache block so a caller may add cache fields after it.
config_head() {
  cat <<YAML
listeners:
  - name: main
    address: 127.0.0.1:${PORTS[0]}
admin:
  address: 127.0.0.1:$ADMIN_PORT
concurrency: 2
cache:
  dir: $WORK/cache
YAML
}
