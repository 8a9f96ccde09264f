#!/usr/bin/env bash
# Rollout stickiness in a fleet of sidecars (issue 10): every sidecar sees
# its builds connect from 127.0.0.1, so hashing the source address made
# every sidecar decide alike (a gray release became one big-bang switch).
# With the default stickiness a loopback client is keyed by the node id
# ($POD_NAME here), salted by the route:
#   - 12 modgate processes with different node ids and one config (a
#     rollout held at 50%), each asked 8 uncached requests from 127.0.0.1:
#     every process sends all of its requests to one side (a pod never
#     mixes the old and the new proxy), and the fleet is split: some pods
#     on stable, some on the canary.
#   - /config_dump shows each process's node id.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/canary_lib.sh"
integ_init

NODES=12
REQUESTS=8
start_named_origin S
start_named_origin C

cfg="$WORK/sidecar.yaml"
canary_config "$cfg" <<YAML
    rollout:
      canary_cluster: canary
      stages:
        - {weight: 50, min_duration: 1h}
        - {weight: 100}
concurrency: 1
YAML

declare -a URLS
for ((n = 0; n < NODES; n++)); do
  export POD_NAME="ci-pod-$n"
  start_modgate -c "$cfg" --cache-dir "$WORK/cache.$n"
  URLS[n]="$PROXY_URL"
  dump="$(curl -s --max-time 5 "$ADMIN_URL/config_dump")"
  if [[ $n == 0 ]]; then
    assert_match "/config_dump shows the node id from \$POD_NAME" '"id": *"ci-pod-0"' "$dump"
  fi
done
unset POD_NAME

on_stable=0
on_canary=0
mixed=0
for ((n = 0; n < NODES; n++)); do
  for ((r = 0; r < REQUESTS; r++)); do
    curl -s -o /dev/null --max-time 10 "${URLS[n]}/example.com/n$n/r$r/@v/list"
  done
  s="$(count_paths "${O_LOG[S]}" "^/example.com/n$n/")"
  c="$(count_paths "${O_LOG[C]}" "^/example.com/n$n/")"
  log "node ci-pod-$n: stable $s, canary $c"
  if [[ $s == "$REQUESTS" && $c == 0 ]]; then
    on_stable=$((on_stable + 1))
  elif [[ $c == "$REQUESTS" && $s == 0 ]]; then
    on_canary=$((on_canary + 1))
  else
    mixed=$((mixed + 1))
  fi
done
assert_eq "every sidecar sends all its requests to one side" 0 "$mixed"
check "sidecars with the same client address decide differently (stable $on_stable, canary $on_canary)" \
  test "$on_stable" -ge 1 -a "$on_canary" -ge 1
finish
