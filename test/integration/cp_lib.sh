# shellcheck shell=bash
# shellcheck disable=SC2034  # variables here are read by the sourcing test scripts
# Helpers for tests that run `modgate control-plane` (sourced after lib.sh).
#
#   write_cp_config FILE DESIRED_DIR [YAML...]
#                  a control plane config on free ports (CP_PORT for xDS,
#                  CP_ADMIN_PORT for admin) serving DESIRED_DIR, plus any
#                  extra YAML lines (e.g. a tls: block).
#   start_cp       runs it (config in CP_CONFIG), waits for /ready; CP_PID.
#   fleet          GET /fleet.
#   fleet_synced N N nodes connected, each in sync with Cluster and
#                  RouteTable ACKed.
#   fleet_generation   the desired config's generation.
#   fleet_node ID EXPR a Python expression over node `n` (a dict of /fleet),
#                  printed; empty when the node is unknown.
#   restart_cp     SIGKILLs the control plane (no drain, no last save) and
#                  starts it again on the same config and ports.
#
# Fleet rollouts (also need canary_lib.sh):
#   start_sidecars N PREFIX   N sidecars (--concurrency 1, node ids
#                  PREFIX-0..), subscribed to the control plane, without
#                  routes of their own; URLS[] and ADMINS[] per node.
#   cp_rollout_is / cp_rollout_field   rollout_is / rollout_field on the
#                  control plane's /rollouts.
#   fleet_told STATE WEIGHT   every sidecar's /rollouts shows the control
#                  plane's rollout of route "public" in STATE at WEIGHT.
#   sidecars_rollouts         every sidecar's /rollouts (for failures).
#   cp_desired_rollout STAGES writes CP_DESIRED/config.yaml (by rename):
#                  canary_config's route "public", sticky on x-build-id,
#                  with a rollout to canary through STAGES gated on the
#                  error ratio (max 5% over 3s, 20 requests at least).
#
# Config rollouts (CP_DESIRED: the desired config directory; origin A):
#   start_desired_origin      starts origin A and writes the first desired
#                  config into CP_DESIRED ($WORK/desired).
#   cp_desired [YAML...]      writes CP_DESIRED/config.yaml (by rename): a
#                  cluster "origin" on origin A, a route "public" to it,
#                  plus these top-level lines.
#   config_rollout KEY        a field of /rollouts' config_rollout (a list
#                  printed space-separated).
#   phase_is PHASE            config_rollout phase is PHASE.
#   type_field TYPE KEY       "id=value" of /fleet's types[TYPE][KEY] for
#                  every connected node.
#   fleet_traffic             builds through every sidecar, round robin
#                  (split on x-build-id), until $STOP exists; one JSON
#                  summary line per build in $WORK/bg.json.
#   traffic_summary FILE      "requests non-404-responses errors" over it.

write_cp_config() { # FILE DESIRED_DIR [YAML...]
  CP_CONFIG="$1"
  CP_PORT="$(free_port)"
  CP_ADMIN_PORT="$(free_port)"
  {
    printf '%s\n' "address: 127.0.0.1:$CP_PORT" "admin_address: 127.0.0.1:$CP_ADMIN_PORT" \
      "config_dir: $2" "debounce: 100ms"
    shift 2
    [[ $# -gt 0 ]] && printf '%s\n' "$@"
  } >"$CP_CONFIG"
}

start_cp() {
  "$MODGATE" control-plane -c "$CP_CONFIG" >>"$WORK/cp.log" 2>&1 &
  CP_PID=$!
  _LIB_PIDS+=("$CP_PID")
  local i
  for ((i = 0; i < 600; i++)); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$CP_ADMIN_PORT/ready")" == 200 ]] && return 0
    kill -0 "$CP_PID" 2>/dev/null || { show_tail "$WORK/cp.log" 20 "control plane log"; die "the control plane exited"; }
    sleep 0.1
  done
  die "the control plane is not ready"
}

restart_cp() {
  kill -KILL "$CP_PID" 2>/dev/null
  wait "$CP_PID" 2>/dev/null
  _forget_pid "$CP_PID"
  start_cp
}

fleet() { curl -s --max-time 5 "http://127.0.0.1:$CP_ADMIN_PORT/fleet"; }

fleet_synced() { # N
  fleet | python3 -c '
import json, sys
f = json.load(sys.stdin)
nodes = [n for n in f["nodes"] if n["connected"]]
ok = len(nodes) == int(sys.argv[1]) and all(
    n["in_sync"] and n["types"].get("Cluster", {}).get("acked_version")
    and n["types"].get("RouteTable", {}).get("acked_version") for n in nodes)
sys.exit(0 if ok else 1)' "$1"
}

fleet_generation() { fleet | python3 -c 'import json, sys; print(json.load(sys.stdin)["generation"])'; }

fleet_node() { # ID EXPR
  fleet | python3 -c '
import json, sys
for n in json.load(sys.stdin)["nodes"]:
    if n["id"] == sys.argv[1]:
        print(eval(sys.argv[2]))' "$1" "$2"
}

# sidecar_cp_status [ADMIN_URL]: the control_plane object of a sidecar's
# /config_dump as compact JSON with sorted keys (the xDS client's status is
# a map: no key order to rely on). Default ADMIN_URL: $ADMIN_URL.
sidecar_cp_status() {
  curl -s --max-time 5 "${1:-$ADMIN_URL}/config_dump" | python3 -c '
import json, sys
print(json.dumps(json.load(sys.stdin).get("control_plane", {}), sort_keys=True, separators=(",", ":")))'
}

start_sidecars() { # N PREFIX
  NODES="$1"
  local cfg="$WORK/sidecar.yaml" n
  cat >"$cfg" <<YAML
node: {cluster: ci}
control_plane:
  urls: ["http://127.0.0.1:$CP_PORT"]
  retry_base_interval: 0.1s
  retry_max_interval: 1s
concurrency: 1
YAML
  URLS=() ADMINS=()
  for ((n = 0; n < NODES; n++)); do
    export POD_NAME="$2-$n"
    start_modgate -c "$cfg" --cache-dir "$WORK/cache.$n"
    URLS[n]="$PROXY_URL" ADMINS[n]="$ADMIN_URL"
  done
  unset POD_NAME
}

cp_rollout_is() { ADMIN_URL="http://127.0.0.1:$CP_ADMIN_PORT" rollout_is "$@"; }
cp_rollout_field() { ADMIN_URL="http://127.0.0.1:$CP_ADMIN_PORT" rollout_field "$@"; }

fleet_told() { # STATE WEIGHT
  local n
  for ((n = 0; n < NODES; n++)); do
    ADMIN_URL="${ADMINS[n]}" rollout_is public "$1" "$2" || return 1
    [[ -n "$(ADMIN_URL="${ADMINS[n]}" rollout_field public controlled_by)" ]] || return 1
  done
}

sidecars_rollouts() {
  local n
  for ((n = 0; n < NODES; n++)); do curl -s --max-time 5 "${ADMINS[n]}/rollouts"; echo; done
}

fleet_traffic() {
  local k=0 n
  while [[ ! -e "$STOP" ]] && ((k < 400)); do
    k=$((k + 1))
    n=$((k % NODES))
    split_paths "$WORK/bg$k.paths" "bg$k" 100 x-build-id
    PROXY_URL="${URLS[n]}" run_paths "$WORK/bg$k.paths" 4 "$WORK/bg$k.out"
    echo "$RUN_JSON" >>"$WORK/bg.json"
  done
}

traffic_summary() { # FILE
  python3 -c '
import json, sys
req = other = errors = 0
for line in open(sys.argv[1]):
    o = json.loads(line or "{}")
    req += o.get("requests", 0)
    errors += o.get("errors", 0)
    other += sum(v for k, v in o.get("status", {}).items() if k != "404")
print(req, other, errors)' "$1"
}

cp_desired_rollout() { # STAGES
  canary_config "$CP_DESIRED/config.yaml.tmp" "stickiness: {header: x-build-id}" <<YAML
    rollout:
      canary_cluster: canary
      stages: $1
      gates:
        - {metric: ERROR_RATIO, max: 0.05, window: 3s, min_requests: 20}
      evaluation_interval: 500ms
YAML
  mv "$CP_DESIRED/config.yaml.tmp" "$CP_DESIRED/config.yaml"
}

start_desired_origin() {
  start_named_origin A
  CP_DESIRED="$WORK/desired"
  mkdir -p "$CP_DESIRED"
  cp_desired
}

cp_desired() { # [YAML LINES...]
  {
    printf '%s\n' "clusters:" "  - name: origin" "    endpoints: [{url: \"${O_URL[A]}\"}]" \
      "routes:" "  - {name: public, cluster: origin}"
    (($#)) && printf '%s\n' "$@"
  } >"$CP_DESIRED/config.yaml.tmp"
  mv "$CP_DESIRED/config.yaml.tmp" "$CP_DESIRED/config.yaml"
}

config_rollout() { # KEY
  curl -s --max-time 5 "http://127.0.0.1:$CP_ADMIN_PORT/rollouts" | python3 -c '
import json, sys
v = json.load(sys.stdin).get("config_rollout", {}).get(sys.argv[1], "")
print(" ".join(v) if isinstance(v, list) else v)' "$1"
}

phase_is() { [[ "$(config_rollout phase)" == "$1" ]]; }

type_field() { # TYPE KEY
  fleet | python3 -c '
import json, sys
for n in json.load(sys.stdin)["nodes"]:
    if n["connected"]:
        print("%s=%s" % (n["id"], n["types"].get(sys.argv[1], {}).get(sys.argv[2], "")))' "$1" "$2"
}

# config_rollout_undone TYPE ACKED_BEFORE SENT_BEFORE WHAT: after a stopped
# config rollout whose canary nodes are CANARIES[], every node is back in
# sync on TYPE's versions of before (ACKED_BEFORE: `type_field TYPE
# acked_version` then) and the other nodes' resources_sent of TYPE is still
# SENT_BEFORE (`type_field TYPE resources_sent` then): they were never sent
# WHAT. Waits for the first, checks the second.
_every_node_acked() { fleet_synced "$NODES" && [[ "$(type_field "$1" acked_version)" == "$2" ]]; }
config_rollout_undone() {
  local type="$1" acked_before="$2" sent_before="$3" what="$4"
  if wait_until 120 _every_node_acked "$type" "$acked_before"; then
    pass "every node is in sync on the previous version (the canaries were given it back)"
  else
    fail "every node back on the previous version" "$(type_field "$type" acked_version)"
  fi
  assert_eq "the other nodes were never sent $what" \
    "$(grep -v -F -f <(printf '%s=\n' "${CANARIES[@]}") <<<"$sent_before")" \
    "$(type_field "$type" resources_sent | grep -v -F -f <(printf '%s=\n' "${CANARIES[@]}"))"
}
