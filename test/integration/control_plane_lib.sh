# shellcheck shell=bash
# Helpers for tests of `modgate control-plane` and its sidecars. Sourced
# after lib.sh:
#
#   cp_init DESIRED_DIR [EXTRA_CP_YAML]   # CP_PORT, CP_ADMIN_PORT, $WORK/cp.yaml
#   cp_start                              # CP_PID, waits for /ready
#   cp_sidecar_config FILE                # a sidecar config: no routes of its own

# cp_init DIR [EXTRA]: picks the control plane's ports and writes its config
# (EXTRA: more top-level YAML lines).
cp_init() {
  CP_DESIRED="$1"
  CP_PORT="$(free_port)"
  CP_ADMIN_PORT="$(free_port)"
  CP_ADMIN_URL="http://127.0.0.1:$CP_ADMIN_PORT"
  mkdir -p "$CP_DESIRED"
  {
    echo "address: 127.0.0.1:$CP_PORT"
    echo "admin_address: 127.0.0.1:$CP_ADMIN_PORT"
    echo "config_dir: $CP_DESIRED"
    echo "debounce: 100ms"
    [[ -n "${2:-}" ]] && echo "$2"
  } >"$WORK/cp.yaml"
}

# cp_start: runs the control plane (log $WORK/cp.log) until it is ready.
cp_start() {
  "$MODGATE" control-plane -c "$WORK/cp.yaml" >>"$WORK/cp.log" 2>&1 &
  CP_PID=$!
  _LIB_PIDS+=("$CP_PID")
  local i
  for ((i = 0; i < 300; i++)); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$CP_ADMIN_URL/ready")" == 200 ]] && return 0
    kill -0 "$CP_PID" 2>/dev/null || { show_tail "$WORK/cp.log" 20 "control plane log"; die "the control plane exited"; }
    sleep 0.1
  done
  die "the control plane is not ready"
}

# cp_sidecar_config FILE: a sidecar subscribed to the control plane, one
# worker, node id from $POD_NAME when started.
cp_sidecar_config() {
  cat >"$1" <<YAML
node: {cluster: ci, labels: {team: build}}
control_plane:
  urls: ["http://127.0.0.1:$CP_PORT"]
  retry_base_interval: 0.1s
  retry_max_interval: 1s
concurrency: 1
YAML
}

cp_fleet() { curl -s --max-time 5 "$CP_ADMIN_URL/fleet"; }
