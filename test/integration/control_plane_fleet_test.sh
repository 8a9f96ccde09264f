#!/usr/bin/env bash
# modgate sidecars against modgate's own control plane (issue 10):
#   - `modgate control-plane` serves a desired config directory; 8 sidecars
#     (--concurrency 1, node ids from $POD_NAME, no routes of their own)
#     subscribe, half over delta xDS and half over state of the world;
#     /fleet shows every node connected and in sync, each type ACKed.
#   - go mod download through a sidecar: every checksum verifies.
#   - A change of the desired file (a runtime value and a new route) reaches
#     every sidecar: each ACKs the new generation (/fleet in sync again) and
#     serves it (/runtime shows the value).
#   - 1,500 requests through a sidecar while 6 pushes arrive: none fails.
#   - One sidecar restarted with the control plane down serves its
#     persisted config; with the control plane back it is in sync again.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing (apt-get install golang-go)"

NODES=8
start_origin

DESIRED="$WORK/desired"
mkdir -p "$DESIRED"
cat >"$DESIRED/config.yaml" <<YAML
clusters:
  - name: public
    endpoints: [{url: "$ORIGIN_URL"}]
routes:
  - name: all
    cluster: public
YAML
CP_PORT="$(free_port)"
CP_ADMIN_PORT="$(free_port)"
cat >"$WORK/cp.yaml" <<YAML
address: 127.0.0.1:$CP_PORT
admin_address: 127.0.0.1:$CP_ADMIN_PORT
config_dir: $DESIRED
debounce: 100ms
YAML
start_cp() {
  "$MODGATE" control-plane -c "$WORK/cp.yaml" >>"$WORK/cp.log" 2>&1 &
  CP_PID=$!
  _LIB_PIDS+=("$CP_PID")
  local i
  for ((i = 0; i < 300; i++)); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$CP_ADMIN_PORT/ready")" == 200 ]] && return 0
    kill -0 "$CP_PID" 2>/dev/null || { show_tail "$WORK/cp.log" 20 "control plane log"; die "the control plane exited"; }
    sleep 0.1
  done
  die "the control plane is not ready"
}
fleet() { curl -s --max-time 5 "http://127.0.0.1:$CP_ADMIN_PORT/fleet"; }
# fleet_synced N: N nodes connected, every one in sync with Cluster and
# RouteTable ACKed.
fleet_synced() {
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

start_cp
cfg="$WORK/sidecar.yaml"
cat >"$cfg" <<YAML
node: {cluster: ci, labels: {team: build}}
control_plane:
  urls: ["http://127.0.0.1:$CP_PORT"]
  retry_base_interval: 0.1s
  retry_max_interval: 1s
concurrency: 1
YAML
# Odd nodes speak state-of-the-world xDS.
sed 's/^control_plane:$/control_plane:\n  api_type: GRPC/' "$cfg" >"$WORK/sidecar-sotw.yaml"
declare -a URLS ADMINS PIDS
for ((n = 0; n < NODES; n++)); do
  export POD_NAME="fleet-pod-$n"
  if ((n % 2)); then node_cfg="$WORK/sidecar-sotw.yaml"; else node_cfg="$cfg"; fi
  start_modgate -c "$node_cfg" --cache-dir "$WORK/cache.$n"
  URLS[n]="$PROXY_URL" ADMINS[n]="$ADMIN_URL" PIDS[n]="$MODGATE_PID"
done
unset POD_NAME

if wait_until 60 fleet_synced "$NODES"; then
  pass "/fleet: all $NODES sidecars connected, in sync, Cluster and RouteTable ACKed"
else
  fail "/fleet: all $NODES sidecars connected, in sync" "$(fleet | head -c 2000)"
fi

PROXY_URL="${URLS[3]}"
go_env fleet
cd "$GO_HOME/work" || die "no work dir"
go_download_sums "go mod download through a sidecar of the fleet, sums match" \
  github.com/google/uuid@v1.3.0 github.com/BurntSushi/toml@v1.2.0
cd "$WORK" || die "no work dir"

# A change of the desired config reaches every sidecar.
generation="$(fleet_generation)"
cat >"$DESIRED/config.yaml" <<YAML
clusters:
  - name: public
    endpoints: [{url: "$ORIGIN_URL"}]
routes:
  - name: blocked
    match: {prefix: example.com/blocked/}
    direct_response: {status: 403, body: "blocked by the fleet policy"}
  - name: all
    cluster: public
runtime:
  fleet.knob: 42
YAML
changed() { (($(fleet_generation) > generation)) && fleet_synced "$NODES"; }
if wait_until 60 changed; then
  pass "the file change reached all $NODES sidecars and each ACKed it (/fleet in sync)"
else
  fail "the file change reached all sidecars" "$(fleet | head -c 2000)"
fi
served=0
for ((n = 0; n < NODES; n++)); do
  runtime="$(curl -s --max-time 5 "${ADMINS[n]}/runtime")"
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${URLS[n]}/example.com/blocked/x/@v/list")"
  [[ "$runtime" == *'"fleet.knob":42'* && "$code" == 403 ]] && served=$((served + 1))
done
assert_eq "every sidecar serves the new config (runtime value, 403 route)" "$NODES" "$served"

# Pushes under load: 1,500 uncached requests through one sidecar while the
# desired config changes 6 times (each change a reload of every sidecar);
# not one request fails.
for ((i = 1; i <= 1500; i++)); do echo "/example.com/push/b$i/@v/list"; done >"$WORK/push.paths"
timeout -k 5 300 python3 "$LB_CLIENT" --base "${URLS[2]}" --paths "$WORK/push.paths" \
  --concurrency 4 --out "$WORK/push.out" >"$WORK/push.json" 2>"$WORK/push.err" &
load_pid=$!
for ((k = 1; k <= 6; k++)); do
  sed -i "s/^  fleet.knob: .*/  fleet.knob: $((100 + k))/" "$DESIRED/config.yaml"
  sleep 0.7
done
wait "$load_pid"
push_json="$(cat "$WORK/push.json")"
assert_match "1,500 requests during 6 pushes: every one answered by the origin, none failed" \
  '"errors": 0, "max_ms": [0-9.]+, "requests": 1500, "status": \{"404": 1500\}' "$push_json"
knob_is() { [[ "$(curl -s --max-time 5 "${ADMINS[2]}/runtime")" == *'"fleet.knob":106'* ]]; }
if wait_until 30 knob_is; then pass "the last push reached the loaded sidecar"; else
  fail "the last push reached the loaded sidecar" "$(curl -s --max-time 5 "${ADMINS[2]}/runtime")"; fi

# The control plane down: a restarted sidecar serves its persisted config.
_kill_pid "$CP_PID" 5
_forget_pid "$CP_PID"
MODGATE_PID="${PIDS[0]}"
stop_modgate
export POD_NAME="fleet-pod-0"
start_modgate -c "$cfg" --cache-dir "$WORK/cache.0"
unset POD_NAME
ADMINS[0]="$ADMIN_URL"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$PROXY_URL/example.com/blocked/y/@v/list")"
assert_eq "restarted with the control plane down: the persisted config serves (403 route)" 403 "$code"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$PROXY_URL/github.com/google/uuid/@v/list")"
assert_eq "... and the pushed cluster" 200 "$code"
start_cp
if wait_until 60 fleet_synced "$NODES"; then
  pass "the control plane back: every sidecar reconnected and is in sync"
else
  fail "the control plane back: every sidecar in sync" "$(fleet | head -c 2000)"
fi
finish
