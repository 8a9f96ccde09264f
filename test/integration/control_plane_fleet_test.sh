#!/usr/bin/env bash
# modgate sidecars against modgate's own control plane (issue 10):
#   - `modgate control-plane` serves a desired config directory; 20 sidecars
#     (--concurrency 1, node ids from $POD_NAME, no routes of their own)
#     subscribe, half over delta xDS and half over state of the world;
#     /fleet shows every node connected and in sync, each type ACKed.
#   - go mod download through a sidecar: every checksum verifies.
#   - A change of the desired file (a runtime value and a new route) reaches
#     every sidecar: each ACKs the new generation (/fleet in sync again) and
#     serves it (/runtime shows the value).
#   - 1,500 requests through a sidecar while 6 pushes arrive: none fails.
#   - A listener valid on the control plane whose port one node already
#     uses (a static listener of its own): that node NACKs with the reason
#     and keeps serving its last config; /fleet shows the NACK; the 19
#     others ACK it. Removing the listener brings the fleet back in sync.
#   - The control plane killed: every sidecar keeps serving; one restarted
#     meanwhile serves its persisted config; the control plane back: every
#     node resyncs, and no delta node is sent a resource it already has.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cp_lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing (apt-get install golang-go)"

NODES=20
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
write_cp_config "$WORK/cp.yaml" "$DESIRED"
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
# Node $ODD (delta) also has a static listener of its own on $ODD_PORT, the
# port a pushed listener will want later; it starts from a file with both
# listeners (start_modgate's --listen would replace them).
ODD=6
ODD_PORT="$(free_port)"
start_odd_node() {
  local port admin i
  port="$(free_port)" admin="$(free_port)"
  {
    cat "$cfg"
    printf '%s\n' "listeners:" "  - {name: main, address: 127.0.0.1:$port}" \
      "  - {name: local-extra, address: 127.0.0.1:$ODD_PORT}" \
      "admin: {address: 127.0.0.1:$admin}" "cache: {dir: $WORK/cache.$ODD}"
  } >"$WORK/sidecar-odd.yaml"
  POD_NAME="fleet-pod-$ODD" "$MODGATE" -c "$WORK/sidecar-odd.yaml" >"$WORK/modgate.odd.log" 2>&1 &
  PIDS[ODD]=$!
  _LIB_PIDS+=("${PIDS[ODD]}")
  URLS[ODD]="http://127.0.0.1:$port" ADMINS[ODD]="http://127.0.0.1:$admin"
  for ((i = 0; i < 1200; i++)); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${ADMINS[ODD]}/ready")" == 200 ]] && return 0
    kill -0 "${PIDS[ODD]}" 2>/dev/null || { show_tail "$WORK/modgate.odd.log" 20; die "node $ODD exited"; }
    sleep 0.1
  done
  die "node $ODD is not ready"
}
declare -a URLS ADMINS PIDS
for ((n = 0; n < NODES; n++)); do
  if ((n == ODD)); then start_odd_node; continue; fi
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

# A listener that is valid on the control plane but cannot apply on node
# $ODD: its port is that node's own static listener's. That node NACKs with
# the reason and keeps serving; the others take it.
cp "$DESIRED/config.yaml" "$WORK/config.before-extra.yaml"
cat >>"$DESIRED/config.yaml" <<YAML
listeners:
  - name: extra
    address: 127.0.0.1:$ODD_PORT
YAML
odd_nacked() {
  [[ "$(fleet_node "fleet-pod-$ODD" 'n.get("last_nack", {}).get("message", "")')" == *"127.0.0.1:$ODD_PORT"* ]]
}
# The 19 others ACK a Listener version, are in sync, and node $ODD is not.
others_took_it() {
  fleet | python3 -c '
import json, sys
odd = "fleet-pod-" + sys.argv[1]
nodes = [n for n in json.load(sys.stdin)["nodes"] if n["connected"]]
others = [n for n in nodes if n["id"] != odd]
ok = len(others) == int(sys.argv[2]) - 1 and all(
    n["in_sync"] and n["types"].get("Listener", {}).get("acked_version") for n in others)
sys.exit(0 if ok else 1)' "$ODD" "$NODES"
}
if wait_until 60 odd_nacked; then
  pass "/fleet: node $ODD NACKed the listener, naming the taken address"
else
  fail "/fleet: node $ODD NACKed the listener" "$(fleet | head -c 3000)"
fi
if wait_until 60 others_took_it; then
  pass "/fleet: the $((NODES - 1)) other nodes ACKed the new listener and are in sync"
else
  fail "/fleet: the other nodes ACKed the new listener" "$(fleet | head -c 3000)"
fi
assert_match "node $ODD's /config_dump shows the NACK and why" \
  '"last_nack":\{"at":"[^"]+","error":"[^"]*listeners\[[0-9]+\]\.address[^"]*127\.0\.0\.1:'"$ODD_PORT" \
  "$(sidecar_cp_status "${ADMINS[ODD]}")"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${URLS[ODD]}/example.com/blocked/z/@v/list")"
runtime="$(curl -s --max-time 5 "${ADMINS[ODD]}/runtime")"
[[ "$code" == 403 && "$runtime" == *'"fleet.knob":106'* ]] &&
  pass "node $ODD keeps serving its last config (403 route, runtime value)" ||
  fail "node $ODD keeps serving its last config" "status $code, runtime $runtime"
cp "$WORK/config.before-extra.yaml" "$DESIRED/config.yaml"
if wait_until 60 fleet_synced "$NODES"; then
  pass "the listener removed: all $NODES nodes in sync again"
else
  fail "the listener removed: all nodes in sync again" "$(fleet | head -c 3000)"
fi

# The control plane down: every sidecar keeps serving; a restarted one
# serves its persisted config.
_kill_pid "$CP_PID" 5
_forget_pid "$CP_PID"
disconnected() { [[ "$(sidecar_cp_status "${ADMINS[1]}")" == *'"connected":false'* ]]; }
wait_until 60 disconnected || fail "sidecar 1 saw the control plane go" "$(sidecar_cp_status "${ADMINS[1]}")"
served=0
for ((n = 0; n < NODES; n++)); do
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${URLS[n]}/example.com/blocked/w/@v/list")"
  [[ "$code" == 403 ]] && served=$((served + 1))
done
assert_eq "the control plane down: every sidecar keeps serving its config" "$NODES" "$served"
MODGATE_PID="${PIDS[0]}"
stop_modgate
export POD_NAME="fleet-pod-0"
start_modgate -c "$cfg" --cache-dir "$WORK/cache.0"
unset POD_NAME
URLS[0]="$PROXY_URL" ADMINS[0]="$ADMIN_URL" PIDS[0]="$MODGATE_PID"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$PROXY_URL/example.com/blocked/y/@v/list")"
assert_eq "restarted with the control plane down: the persisted config serves (403 route)" 403 "$code"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$PROXY_URL/github.com/google/uuid/@v/list")"
assert_eq "... and the pushed cluster" 200 "$code"

# The control plane back (a new process: it knows nothing of the fleet):
# every node resyncs; a delta node's reconnect lists what it has, so no
# resource is sent again (state-of-the-world nodes get the full state, as
# that protocol requires).
start_cp
if wait_until 60 fleet_synced "$NODES"; then
  pass "the control plane back: every sidecar reconnected and is in sync"
else
  fail "the control plane back: every sidecar in sync" "$(fleet | head -c 2000)"
fi
resent="$(fleet | python3 -c '
import json, sys
out = []
for n in json.load(sys.stdin)["nodes"]:
    if n["protocol"] == "delta":
        out += ["%s %s %d" % (n["id"], t, s["resources_sent"]) for t, s in n["types"].items() if s["resources_sent"]]
    elif n["protocol"] == "sotw" and n["types"].get("Cluster", {}).get("resources_sent", 0) < 1:
        out.append("%s: no state of the world sent" % n["id"])
print(" ".join(out) or "none")')"
assert_eq "delta nodes were sent no resource they had; state-of-the-world ones the full state" none "$resent"
finish
