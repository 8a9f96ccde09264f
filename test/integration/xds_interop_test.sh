#!/usr/bin/env bash
# A modgate sidecar subscribed to an independent xDS management server
# (Python grpcio, stubs generated from the repository's .proto files;
# xds_management_server.py), delta xDS (issue 10):
#   - The server pushes a cluster and the route table; modgate ACKs both and
#     serves go mod download through them, every checksum verifying.
#   - A push that validates but cannot apply on this node (a listener on a
#     port another process holds) is NACKed with the reason; the last
#     config keeps serving; /config_dump shows the NACK.
#   - The server killed: modgate keeps serving; /config_dump says it is
#     disconnected since when.
#   - modgate restarted while the server is down serves its persisted
#     config at once (a module it never fetched, through the pushed cluster).
#   - The server back on its port: modgate reconnects by itself with
#     initial_resource_versions listing what it has, and the server resends
#     nothing unchanged (responses without resources), then a real change
#     still arrives and is ACKed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cp_lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing (apt-get install golang-go)"
command -v protoc >/dev/null || die "protoc is missing (apt-get install protobuf-compiler)"
PY=/usr/bin/python3
"$PY" -c 'import grpc, google.protobuf' 2>/dev/null || die "python3-grpcio and python3-protobuf are needed"

STUBS="$WORK/stubs"
mkdir -p "$STUBS"
protoc -I . -I /usr/include --python_out="$STUBS" api/envoy/service/discovery/v3/*.proto \
  api/envoy/config/core/v3/*.proto api/google/rpc/*.proto api/modgate/config/v1/*.proto ||
  die "protoc --python_out failed"

start_origin
XDS_CONFIG="$WORK/desired.json"
XDS_LOG="$WORK/xds.log"
: >"$XDS_LOG"
XDS_PORT=""
write_desired() { # JSON
  printf '%s\n' "$1" >"$XDS_CONFIG.tmp" && mv "$XDS_CONFIG.tmp" "$XDS_CONFIG"
}
start_xds() {
  rm -f "$WORK/xds.port"
  "$PY" "$(dirname "${BASH_SOURCE[0]}")/xds_management_server.py" --port "${XDS_PORT:-0}" \
    --port-file "$WORK/xds.port" --config "$XDS_CONFIG" --log "$XDS_LOG" --stubs "$STUBS" \
    >>"$WORK/xds.stderr" 2>&1 &
  XDS_PID=$!
  _LIB_PIDS+=("$XDS_PID")
  local i
  for ((i = 0; i < 200; i++)); do
    [[ -s "$WORK/xds.port" ]] && break
    kill -0 "$XDS_PID" 2>/dev/null || { show_tail "$WORK/xds.stderr" 20 "xds stderr"; die "the management server exited"; }
    sleep 0.1
  done
  [[ -s "$WORK/xds.port" ]] || die "the management server did not start"
  XDS_PORT="$(cat "$WORK/xds.port")"
  log "management server on 127.0.0.1:$XDS_PORT (pid $XDS_PID)"
}
# count EVENT [TYPE]: lines of the server log with that event (and type suffix).
count_events() {
  "$PY" - "$XDS_LOG" "$1" "${2:-}" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == sys.argv[2] and e.get("type", "").endswith(sys.argv[3]):
        n += 1
print(n)
PY
}
wait_events() { # SECS EVENT TYPE MIN
  local deadline=$((SECONDS + $1))
  while ((SECONDS < deadline)); do
    (($(count_events "$2" "$3") >= $4)) && return 0
    sleep 0.2
  done
  return 1
}

DESIRED_OK="{\"clusters\": [{\"name\": \"public\", \"endpoints\": [{\"url\": \"$ORIGIN_URL\"}]}],
 \"routes\": [{\"name\": \"all\", \"cluster\": \"public\"}]}"
write_desired "$DESIRED_OK"
start_xds

cfg="$WORK/sidecar.yaml"
cat >"$cfg" <<YAML
node: {id: interop-pod, cluster: ci, labels: {team: build}}
control_plane:
  urls: ["http://127.0.0.1:$XDS_PORT"]
  retry_base_interval: 0.1s
  retry_max_interval: 1s
concurrency: 1
YAML
start_modgate -c "$cfg" --cache-dir "$WORK/cache"

# 1. First config.
if wait_events 30 ack Cluster 1 && wait_events 30 ack RouteTable 1; then
  pass "modgate ACKed the pushed cluster and route table"
else
  fail "modgate ACKed the pushed cluster and route table" "$(tail -5 "$XDS_LOG")"
fi
assert_match "the node id and user agent reached the server" '"node": "interop-pod"' "$(cat "$XDS_LOG")"
go_env pushed
cd "$GO_HOME/work" || die "no work dir"
go_download_sums "go mod download through the pushed config, sums match" \
  github.com/google/uuid@v1.3.0 github.com/pkg/errors@v0.9.1
cd "$WORK" || die "no work dir"
dump="$(sidecar_cp_status)"
assert_match "/config_dump: connected to the control plane" "\"api_type\":\"DELTA_GRPC\",\"connected\":true,.*\"url\":\"http://127.0.0.1:$XDS_PORT\"" "$dump"
assert_match "/config_dump: the ACKed cluster version" '"acked_versions":\{[^}]*modgate.config.v1.Cluster":"[0-9a-f]{16}"' "$dump"

# 2. A listener on a port another process holds: NACK, old config serves.
taken="$ORIGIN_PORT"
write_desired "{\"clusters\": [{\"name\": \"public\", \"endpoints\": [{\"url\": \"$ORIGIN_URL\"}]}],
 \"routes\": [{\"name\": \"all\", \"cluster\": \"public\"}],
 \"listeners\": [{\"name\": \"extra\", \"address\": \"127.0.0.1:$taken\"}]}"
if wait_events 30 nack Listener 1; then
  pass "a listener that cannot bind is NACKed"
else
  fail "a listener that cannot bind is NACKed" "$(tail -5 "$XDS_LOG")"
fi
assert_match "the NACK says why, naming the field" "listeners\[[0-9]+\]\.address.*127.0.0.1:$taken" \
  "$(grep '"nack"' "$XDS_LOG" | tail -1)"
code="$(http_get "$PROXY_URL/github.com/google/uuid/@v/list" "$WORK/after-nack.body")"
assert_eq "after the NACK the last config serves" 200 "$code"
dump="$(sidecar_cp_status)"
assert_match "/config_dump shows the last NACK and why" '"last_nack":\{"at":"[^"]+","error":"[^"]*listeners[^"]*","type_url":"[^"]*","version":"[^"]*"' "$dump"
write_desired "$DESIRED_OK"

# 3. The server killed: modgate keeps serving.
_kill_pid "$XDS_PID" 5
_forget_pid "$XDS_PID"
dump=""
for ((i = 0; i < 100; i++)); do
  dump="$(sidecar_cp_status)"
  [[ "$dump" == *'"connected":false'* ]] && break
  sleep 0.1
done
assert_match "/config_dump: disconnected since when" '"connected":false,"disconnected_since":"20[0-9-]+T' "$dump"
code="$(http_get "$PROXY_URL/github.com/pkg/errors/@v/list" "$WORK/down.body")"
assert_eq "with the control plane down modgate keeps serving" 200 "$code"

# 4. modgate restarted meanwhile: the persisted config serves at once.
stop_modgate
start_modgate -c "$cfg" --cache-dir "$WORK/cache"
code="$(http_get "$PROXY_URL/github.com/fsnotify/fsnotify/@v/list" "$WORK/restarted.body")"
assert_eq "restarted with the control plane down: a module never fetched is served (persisted config)" 200 "$code"

# 5. The server back: resync without resending unchanged resources.
: >"$XDS_LOG"
start_xds
if wait_events 30 connect "" 1 && wait_events 30 response RouteTable 1 && wait_events 30 response Cluster 1; then
  pass "modgate reconnected by itself and resubscribed"
else
  fail "modgate reconnected by itself and resubscribed" "$(tail -5 "$XDS_LOG")"
fi
resync="$("$PY" - "$XDS_LOG" <<'PY'
import json, sys
init, sent = {}, 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "request" and e["initial"]:
        init[e["type"].rsplit(".", 1)[1]] = sorted(e["initial"])
    if e["event"] == "response":
        sent += len(e["resources"]) + len(e["removed"])
print("initial=%s sent=%d" % (json.dumps(init, sort_keys=True), sent))
PY
)"
assert_eq "the reconnect lists what modgate has; nothing unchanged is resent" \
  'initial={"Cluster": ["public"], "RouteTable": ["routes"]} sent=0' "$resync"
write_desired "{\"clusters\": [{\"name\": \"public\", \"endpoints\": [{\"url\": \"$ORIGIN_URL\"}]}],
 \"routes\": [{\"name\": \"all\", \"cluster\": \"public\"}], \"runtime\": {\"some.knob\": 3}}"
if wait_events 30 ack Runtime 2; then
  pass "a change after the resync is pushed and ACKed"
else
  fail "a change after the resync is pushed and ACKed" "$(tail -5 "$XDS_LOG")"
fi
assert_match "the runtime value reached modgate" '"some.knob":3' "$(curl -s --max-time 5 "$ADMIN_URL/runtime")"
finish
