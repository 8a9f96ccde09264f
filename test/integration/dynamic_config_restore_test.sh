#!/usr/bin/env bash
# A sidecar's last ACKed control plane config survives a restart while the
# control plane is down (issue 10):
#   - modgate with a control_plane (unreachable) and no routes of its own
#     starts, and answers a 404 naming the missing route.
#   - With <cache.dir>/control_plane/last_acked.pb (a DynamicConfig as the
#     sidecar writes it after an ACK: a cluster to the fixture origin and a
#     route to it), it serves at once: go mod download with every checksum
#     verifying through the fixture sumdb.
#   - /config_dump says the config came from the disk, from which URL.
#   - A persisted config that clashes with the local file (a cluster name
#     in both) is ignored with a warning; the local config serves.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing (apt-get install golang-go)"
command -v protoc >/dev/null || die "protoc is missing (apt-get install protobuf-compiler)"

MODS=(github.com/google/uuid@v1.3.0 github.com/pkg/errors@v0.9.1)
start_origin
dead_port="$(free_port)"

cfg="$WORK/sidecar.yaml"
cat >"$cfg" <<YAML
node: {id: restore-pod, cluster: ci}
control_plane:
  urls: ["http://127.0.0.1:$dead_port"]
concurrency: 1
YAML

# 1. Nothing persisted: starts, no route.
start_modgate -c "$cfg" --cache-dir "$WORK/cache"
code="$(http_get "$PROXY_URL/github.com/google/uuid/@v/list" "$WORK/noroute.body")"
assert_eq "without any config from the control plane: 404" 404 "$code"
assert_match "the 404 says there is no route" "no route" "$(cat "$WORK/noroute.body")"
stop_modgate

# 2. A persisted config.
persist() { # TEXT
  mkdir -p "$WORK/cache/control_plane"
  protoc -I . -I /usr/include --encode=modgate.config.v1.DynamicConfig \
    api/modgate/config/v1/dynamic.proto <<<"$1" >"$WORK/cache/control_plane/last_acked.pb" ||
    die "protoc --encode failed"
}
persist "
clusters { name: \"public\" endpoints { url: \"$ORIGIN_URL\" } }
routes { name: \"all\" cluster: \"public\" }
type_versions { key: \"type.googleapis.com/modgate.config.v1.Cluster\" value: \"v7\" }
source_url: \"http://127.0.0.1:$dead_port\"
acked_at_unix_ms: 1765000000000
"
start_modgate -c "$cfg" --cache-dir "$WORK/cache"
go_env restored
cd "$GO_HOME/work" || die "no work dir"
go_download_sums "the persisted config serves at once: go mod download, sums match" "${MODS[@]}"
cd "$WORK" || die "no work dir"
dump="$(curl -s --max-time 5 "$ADMIN_URL/config_dump")"
assert_match "/config_dump: restored from disk" '"restored_from_disk": *true' "$dump"
assert_match "/config_dump: where it came from" "\"source_url\": *\"http://127.0.0.1:$dead_port\"" "$dump"
assert_match "/config_dump: the type versions" '"type.googleapis.com/modgate.config.v1.Cluster": *"v7"' "$dump"
assert_match "/config_dump: the merged cluster" '"name": *"public"' "$dump"
stop_modgate

# 3. A local file that now defines the same cluster: the persisted config
# does not fit; the file serves alone.
cat >>"$cfg" <<YAML
clusters:
  - name: public
    endpoints: [{url: "$ORIGIN_URL"}]
YAML
start_modgate -c "$cfg" --cache-dir "$WORK/cache"
assert_match "a clashing persisted config is ignored, saying why" \
  'clusters\[1\]\.name: "public" is defined both in the local file and by the control plane' \
  "$(cat "$MODGATE_STDERR")"
code="$(http_get "$PROXY_URL/github.com/google/uuid/@v/list" "$WORK/local.body")"
assert_eq "the local file's catch-all route serves" 200 "$code"
finish
