#!/usr/bin/env bash
# examples/kubernetes/ stays valid and coherent (issue 10):
#   - The manifests fit together: the native sidecar (an init container
#     with restartPolicy: Always) gets its node id from the downward API,
#     its probes hit /ready on its admin port, the build container's
#     GOPROXY is the sidecar's listener, the sidecar's control plane URL is
#     the Service, whose ports are the control plane's, and the control
#     plane reads its config and the desired config where they are mounted.
#   - The embedded configs are valid: `modgate validate` on the sidecar's
#     file and on the desired config.
#   - They run: the sidecar starts from its ConfigMap's file (ports and
#     paths moved to this machine) and its /ready says it waits for the
#     control plane; the control plane starts from its own; the sidecar
#     gets the desired config, ACKs it and turns ready. With no control
#     plane, initial_fetch_timeout ends the wait.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cp_lib.sh"
integ_init --no-fixture
python3 -c 'import yaml' 2>/dev/null || die "python3-yaml is missing (apt-get install python3-yaml)"

if [[ -f "$INTEG_DIR/../../examples/kubernetes/ci-pod.yaml" ]]; then K8S="$INTEG_DIR/../../examples/kubernetes"
else K8S="$REPO_ROOT/examples/kubernetes"; fi

# Every ConfigMap's data to $WORK/<name>/<key>; consistency checks print
# one line each ("ok ..." or "bad ...").
python3 - "$K8S" "$WORK" >"$WORK/checks.txt" 2>&1 <<'PY'
import os, sys, urllib.parse, yaml
k8s, work = sys.argv[1], sys.argv[2]
docs = {}
for name in ("control-plane.yaml", "ci-pod.yaml"):
    for doc in yaml.safe_load_all(open(os.path.join(k8s, name))):
        docs[(doc["kind"], doc["metadata"].get("name") or doc["metadata"].get("generateName"))] = doc
for (kind, name), doc in docs.items():
    if kind == "ConfigMap":
        os.makedirs(os.path.join(work, name), exist_ok=True)
        for key, text in doc["data"].items():
            open(os.path.join(work, name, key), "w").write(text)

def check(what, ok):
    print(("ok " if ok else "bad ") + what)

cfg = lambda cm, key: yaml.safe_load(docs[("ConfigMap", cm)]["data"][key])
sidecar_cfg = cfg("modgate-sidecar", "modgate.yaml")
cp_cfg = cfg("modgate-control-plane", "control_plane.yaml")
pod = docs[("Pod", "ci-build-")]["spec"]
sidecar = pod["initContainers"][0]
check("the sidecar is a native sidecar (init container, restartPolicy Always)",
      sidecar.get("restartPolicy") == "Always")
env = {e["name"]: e for e in sidecar.get("env", [])}
check("its node id comes from the downward API (POD_NAME = metadata.name)",
      env.get("POD_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name")
ports = {p["name"]: p["containerPort"] for p in sidecar["ports"]}
admin_port = int(sidecar_cfg["admin"]["address"].rsplit(":", 1)[1])
check("the admin port named in the pod is the sidecar's admin address", ports.get("admin") == admin_port)
for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
    get = sidecar.get(probe, {}).get("httpGet", {})
    check("the sidecar's %s is GET /ready on the admin port" % probe,
          get.get("path") == "/ready" and get.get("port") in ("admin", admin_port))
build = pod["containers"][0]
goproxy = {e["name"]: e.get("value") for e in build["env"]}.get("GOPROXY")
listener = sidecar_cfg["listeners"][0]["address"]
check("the build's GOPROXY (%s) is the sidecar's listener (%s)" % (goproxy, listener),
      goproxy == "http://" + listener and goproxy == "http://127.0.0.1:8080")
mounts = {m["name"]: m["mountPath"] for m in sidecar["volumeMounts"]}
check("the sidecar's config is mounted where its args read it",
      sidecar["args"][-1].startswith(mounts["modgate-config"] + "/"))
check("the sidecar's cache dir is the emptyDir", sidecar_cfg["cache"]["dir"] == mounts["modgate-cache"])
service = docs[("Service", "modgate-control-plane")]
deployment = docs[("Deployment", "modgate-control-plane")]["spec"]["template"]["spec"]["containers"][0]
url = urllib.parse.urlsplit(sidecar_cfg["control_plane"]["urls"][0])
svc_ports = {p["name"]: p for p in service["spec"]["ports"]}
check("the sidecar's control plane URL is the Service (%s)" % url.netloc,
      url.hostname.startswith("modgate-control-plane.") and url.port == svc_ports["xds"]["port"])
cp_ports = {p["name"]: p["containerPort"] for p in deployment["ports"]}
check("the Service's xds port reaches the control plane's address",
      cp_ports[svc_ports["xds"]["targetPort"]] == int(cp_cfg["address"].rsplit(":", 1)[1]))
check("the control plane's admin port is its admin_address",
      cp_ports["admin"] == int(cp_cfg["admin_address"].rsplit(":", 1)[1]))
cp_mounts = {m["name"]: m for m in deployment["volumeMounts"]}
check("the desired config is mounted as a directory (no subPath: edits arrive) at config_dir",
      cp_mounts["desired"]["mountPath"] == cp_cfg["config_dir"] and "subPath" not in cp_mounts["desired"])
check("the control plane reads its config where it is mounted",
      deployment["args"][-1] == cp_mounts["config"]["mountPath"])
cp_volumes = {v["name"]: v for v in docs[("Deployment", "modgate-control-plane")]["spec"]["template"]["spec"]["volumes"]}
check("the rollouts' state_dir is a writable volume (emptyDir: survives container restarts)",
      cp_mounts.get("state", {}).get("mountPath") == cp_cfg.get("state_dir")
      and "emptyDir" in cp_volumes.get("state", {}))
PY
[[ -s "$WORK/checks.txt" ]] || die "the manifests could not be read"
while read -r verdict what; do
  case "$verdict" in
    ok) pass "$what" ;;
    bad) fail "$what" ;;
    *) fail "reading the manifests" "$verdict $what" ;;
  esac
done <"$WORK/checks.txt"

# The embedded configs validate.
out="$(POD_NAME=ci-build-x timeout 30 "$MODGATE" validate -c "$WORK/modgate-sidecar/modgate.yaml" 2>&1)" &&
  pass "modgate validate: the sidecar's file" || fail "modgate validate: the sidecar's file" "$out"
out="$(timeout 30 "$MODGATE" validate -c "$WORK/modgate-desired/fleet.yaml" 2>&1)" &&
  pass "modgate validate: the desired config" || fail "modgate validate: the desired config" "$out"

# They run, moved to this machine: the control plane's ports and paths, the
# sidecar's ports, cache and control plane URL.
write_cp_config "$WORK/cp.yaml" "$WORK/modgate-desired"
python3 - "$WORK" "$CP_PORT" "$CP_ADMIN_PORT" <<'PY'
import json, os, sys, yaml
work, cp_port, admin_port = sys.argv[1], sys.argv[2], sys.argv[3]
cp = yaml.safe_load(open(os.path.join(work, "modgate-control-plane", "control_plane.yaml")))
cp.update(address="127.0.0.1:" + cp_port, admin_address="127.0.0.1:" + admin_port,
          config_dir=os.path.join(work, "modgate-desired"), state_dir=os.path.join(work, "cp-state"))
json.dump(cp, open(os.path.join(work, "cp.yaml"), "w"))
sidecar = yaml.safe_load(open(os.path.join(work, "modgate-sidecar", "modgate.yaml")))
for key in ("listeners", "admin", "cache"):
    sidecar.pop(key, None)
sidecar["control_plane"]["urls"] = ["http://127.0.0.1:" + cp_port]
sidecar["control_plane"]["initial_fetch_timeout"] = "0s"
json.dump(sidecar, open(os.path.join(work, "sidecar.yaml"), "w"))
PY
# The sidecar first, as in a pod scheduled before the control plane is up:
# /ready holds the build back until a config arrives (waiting for as long
# as it takes here, so a slow machine cannot turn the wait into a timeout).
SIDECAR_PORT="$(free_port)" SIDECAR_ADMIN="http://127.0.0.1:$(free_port)"
POD_NAME=ci-build-x "$MODGATE" -c "$WORK/sidecar.yaml" --listen "127.0.0.1:$SIDECAR_PORT" \
  --admin "${SIDECAR_ADMIN#http://}" --cache-dir "$WORK/cache" >"$WORK/sidecar.log" 2>&1 &
_LIB_PIDS+=("$!")
ready_says() { [[ "$(curl -s --max-time 2 "$SIDECAR_ADMIN/ready")" == "$1" ]]; }
if wait_until 60 ready_says "WAITING FOR CONTROL PLANE"; then
  pass "before the control plane answers, the sidecar's /ready is 503 WAITING FOR CONTROL PLANE"
else
  fail "/ready waits for the control plane" "$(curl -s -i --max-time 2 "$SIDECAR_ADMIN/ready")"
fi
start_cp
pass "the control plane starts from its ConfigMap's file"
if wait_until 120 ready_says LIVE && wait_until 60 fleet_synced 1; then
  pass "the sidecar gets the desired config, ACKs it, and is ready"
else
  fail "the sidecar gets the desired config and is ready" "$(fleet | head -c 2000)"
fi
assert_eq "/fleet knows it by its pod name" ci-build-x "$(fleet_node ci-build-x 'n["id"]')"

# With no control plane at all, initial_fetch_timeout ends the wait.
dead="$(free_port)"
printf '%s\n' "control_plane: {urls: [\"http://127.0.0.1:$dead\"], initial_fetch_timeout: 1s}" \
  "concurrency: 1" >"$WORK/alone.yaml"
POD_NAME=ci-build-y start_modgate -c "$WORK/alone.yaml" --cache-dir "$WORK/cache.alone"
assert_match "no control plane: ready after initial_fetch_timeout, saying so" \
  "no config from the control plane within 1000 ms" "$(cat "$MODGATE_STDERR")"
finish
