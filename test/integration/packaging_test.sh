#!/usr/bin/env bash
# The packaging examples hold together: every manifest under
# examples/kubernetes/edge/ parses; every modgate config they embed (and the
# Docker image's and the systemd unit's) passes `modgate validate`; the
# fields the manifests rely on match those configs (container ports =
# listener and admin ports, probes on admin paths that answer 200 on a real
# modgate, terminationGracePeriodSeconds covering preStop + drain_timeout,
# the front tier's ring = the StatefulSet's pod DNS names, Services and
# PodDisruptionBudgets selecting real pods, the cache volume at cache.dir);
# the Dockerfile is Debian 12 only, runs as non-root and installs a package
# for every shared library the binary loads; the systemd unit is hardened
# and passes `systemd-analyze verify`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init --no-fixture

if [[ -d "$INTEG_DIR/../../examples/kubernetes/edge" ]]; then EXAMPLES="$INTEG_DIR/../../examples"
else EXAMPLES="$REPO_ROOT/examples"; fi
EDGE="$EXAMPLES/kubernetes/edge"
python3 -c 'import yaml' 2>/dev/null || die "python3-yaml is missing (apt-get install python3-yaml)"

# ---- the embedded configs --------------------------------------------------------
mkdir -p "$WORK/configs"
python3 - "$EDGE" "$WORK/configs" <<'PY' || die "cannot read the manifests in $EDGE"
import glob, os, sys, yaml
edge, out = sys.argv[1:]
for path in sorted(glob.glob(os.path.join(edge, "*.yaml"))):
    for doc in yaml.safe_load_all(open(path)):
        if doc and doc.get("kind") == "ConfigMap":
            for name, text in doc.get("data", {}).items():
                if name.endswith((".yaml", ".yml", ".json")):
                    open(os.path.join(out, "%s--%s" % (doc["metadata"]["name"], name)), "w").write(text)
PY
cp "$EXAMPLES/docker/modgate.yaml" "$WORK/configs/docker--modgate.yaml"
cp "$EXAMPLES/systemd/modgate.yaml" "$WORK/configs/systemd--modgate.yaml"
for f in "$WORK"/configs/*.yaml; do
  b="$(basename "$f" .yaml)"
  if timeout 30 "$MODGATE" validate -c "$f" >"$WORK/configs/$b.json" 2>"$WORK/$b.err"; then
    pass "modgate validate: ${b/--//} ($(tail -n 1 "$WORK/$b.err"))"
  else
    fail "modgate validate: ${b/--//}" "$(head -c 300 "$WORK/$b.err")"
  fi
done

# ---- the manifests against the configs ---------------------------------------------
python3 - "$EDGE" "$WORK/configs" "$WORK/probe_paths" >"$WORK/checks" 2>&1 <<'PY'
import glob, json, os, re, sys, yaml
edge, configs, probe_out = sys.argv[1:]
docs = []
for path in sorted(glob.glob(os.path.join(edge, "*.yaml"))):
    for doc in yaml.safe_load_all(open(path)):
        if doc:
            docs.append((os.path.basename(path), doc))
def check(ok, case, why=""):
    print("ok\t%s" % case if ok else "bad\t%s\t%s" % (case, str(why).replace("\n", " ")))
def duration_s(text):
    return float(text.rstrip("s"))
def port_of(address):
    return int(address.rsplit(":", 1)[1])

for f, d in docs:
    check(all(d.get(k) for k in ("apiVersion", "kind")) and d.get("metadata", {}).get("name"),
          "%s: %s %s has apiVersion, kind and a name" % (f, d.get("kind"), d.get("metadata", {}).get("name")))
by_kind = {}
for f, d in docs:
    by_kind.setdefault(d["kind"], []).append(d)
check({"ConfigMap", "StatefulSet", "Deployment", "Service", "PodDisruptionBudget"} <= set(by_kind),
      "the edge tier has a ConfigMap, StatefulSet, Deployment, Services and PodDisruptionBudgets",
      sorted(by_kind))
configmaps = {d["metadata"]["name"] for d in by_kind.get("ConfigMap", [])}
workloads = by_kind.get("StatefulSet", []) + by_kind.get("Deployment", [])
def matches(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())
probes = set()
for w in workloads:
    name = "%s %s" % (w["kind"], w["metadata"]["name"])
    spec = w["spec"]
    pod = spec["template"]
    labels = pod["metadata"]["labels"]
    check(matches(spec["selector"]["matchLabels"], labels), "%s: its selector matches its pod labels" % name)
    pod_spec = pod["spec"]
    sc = pod_spec.get("securityContext", {})
    check(sc.get("runAsNonRoot") is True and sc.get("runAsUser", 0) != 0, "%s: runs as non-root" % name, sc)
    volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
    claims = {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])}
    for c in pod_spec["containers"]:
        args = c.get("args", [])
        cfg_path = args[args.index("-c") + 1] if "-c" in args else None
        mount = next((m for m in c.get("volumeMounts", []) if cfg_path and cfg_path.startswith(m["mountPath"] + "/")), None)
        cm = volumes.get(mount["name"], {}).get("configMap", {}).get("name") if mount else None
        check(cm in configmaps, "%s: -c %s is in a mounted ConfigMap" % (name, cfg_path), cm)
        eff_path = os.path.join(configs, "%s--%s.json" % (cm, os.path.splitext(os.path.basename(cfg_path or ""))[0]))
        try:
            eff = json.load(open(eff_path))
        except Exception as e:
            check(False, "%s: its config validated" % name, e); continue
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        listen = sorted(port_of(l["address"]) for l in eff.get("listeners", []))
        check([ports.get("goproxy")] == listen, "%s: containerPort goproxy = the config's listener port" % name,
              "%s vs %s" % (ports, listen))
        admin_port = port_of(eff["admin"]["address"])
        check(ports.get("admin") == admin_port and eff["admin"]["address"].startswith("0.0.0.0:"),
              "%s: containerPort admin = the admin port, on the pod IP for the kubelet" % name,
              "%s vs %s" % (ports, eff["admin"]["address"]))
        for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
            p = c.get(kind)
            if not p:
                check(kind == "startupProbe", "%s: has a %s" % (name, kind)); continue
            get = p.get("httpGet", {})
            port = ports.get(get.get("port"), get.get("port"))
            check(port == admin_port and get.get("path", "").startswith("/"),
                  "%s: %s is an HTTP GET on the admin port" % (name, kind), get)
            probes.add(get.get("path"))
        check(c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/ready" and
              c.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/ready",
              "%s: readiness on /ready, liveness elsewhere (/ready fails on purpose while draining)" % name)
        pre = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
        sleep_s = float(pre[-1]) if pre and pre[0].endswith("sleep") else None
        drain = duration_s(eff["limits"]["drain_timeout"])
        grace = pod_spec.get("terminationGracePeriodSeconds", 30)
        check(sleep_s is not None and grace >= sleep_s + drain + 5,
              "%s: terminationGracePeriodSeconds (%s) covers the preStop sleep (%s s) + drain_timeout (%s s) + 5 s"
              % (name, grace, sleep_s, drain))
        res = c.get("resources", {})
        check(res.get("requests", {}).get("memory") and res.get("limits", {}).get("memory") and
              res.get("requests", {}).get("cpu"), "%s: has resource requests and limits" % name, res)
        cache_dir = eff["cache"]["dir"]
        cache_mount = next((m for m in c.get("volumeMounts", []) if m["mountPath"] == cache_dir), None)
        check(cache_mount is not None and (cache_mount["name"] in claims or cache_mount["name"] in volumes),
              "%s: cache.dir %s is a mounted volume" % (name, cache_dir))
        if w["kind"] == "StatefulSet":
            check(cache_mount is not None and cache_mount["name"] in claims,
                  "%s: the cache is a PersistentVolumeClaim per pod" % name)
for s in by_kind.get("Service", []):
    name = "Service %s" % s["metadata"]["name"]
    sel = s["spec"].get("selector", {})
    pods = [w for w in workloads if matches(sel, w["spec"]["template"]["metadata"]["labels"])]
    check(len(pods) == 1, "%s selects the pods of one workload" % name, [w["metadata"]["name"] for w in pods])
    for p in s["spec"]["ports"]:
        names = {q["name"] for w in pods for c in w["spec"]["template"]["spec"]["containers"] for q in c.get("ports", [])}
        check(p.get("targetPort") in names, "%s: targetPort %s is a named container port" % (name, p.get("targetPort")))
for b in by_kind.get("PodDisruptionBudget", []):
    sel = b["spec"]["selector"]["matchLabels"]
    check(any(matches(sel, w["spec"]["template"]["metadata"]["labels"]) for w in workloads),
          "PodDisruptionBudget %s selects pods" % b["metadata"]["name"])
# The ring: the front's ring-hash cluster lists every StatefulSet pod by its
# stable DNS name (<set>-<ordinal>.<headless service>) on the listener port.
for sts in by_kind.get("StatefulSet", []):
    svc_name = sts["spec"]["serviceName"]
    svc = next((s for s in by_kind.get("Service", []) if s["metadata"]["name"] == svc_name), None)
    check(svc is not None and svc["spec"].get("clusterIP") == "None",
          "StatefulSet %s: serviceName %s is a headless Service" % (sts["metadata"]["name"], svc_name))
    port = sts["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    want = ["http://%s-%d.%s:%d" % (sts["metadata"]["name"], i, svc_name, port)
            for i in range(sts["spec"]["replicas"])]
    rings = []
    for f in glob.glob(os.path.join(configs, "*.json")):
        try:
            clusters = json.load(open(f)).get("clusters", [])
        except ValueError:
            continue  # did not validate: failed above
        for c in clusters:
            if c.get("lb_policy") in ("RING_HASH", "MAGLEV"):
                rings.append([e["url"] for e in c.get("endpoints", [])])
    check(want in rings, "the front tier's ring hash is over the %d StatefulSet pods by DNS name" % len(want),
          "%s not in %s" % (want, rings))
open(probe_out, "w").write("\n".join(sorted(probes)) + "\n")
PY
while IFS=$'\t' read -r verdict case why; do
  if [[ "$verdict" == ok ]]; then pass "$case"; elif [[ "$verdict" == bad ]]; then fail "$case" "$why"; fi
done <"$WORK/checks"
grep -qv $'^\(ok\|bad\)\t' "$WORK/checks" && show_tail "$WORK/checks" 20 "manifest checks (errors)"

# ---- the probes answer 200 on a real modgate -----------------------------------------
start_modgate --upstream "http://127.0.0.1:9" --cache-dir "$WORK/cache"
while read -r p; do
  [[ -n "$p" ]] || continue
  assert_eq "probe path $p answers 200 on the admin address" 200 "$(admin_get "$p")"
done <"$WORK/probe_paths"
stop_modgate

# ---- Dockerfile ----------------------------------------------------------------------
DOCKERFILE="$EXAMPLES/docker/Dockerfile"
froms="$(awk 'toupper($1) == "FROM" { print $2 }' "$DOCKERFILE" | sort -u | tr '\n' ' ')"
assert_match "Dockerfile: every stage is Debian 12 (FROM $froms)" '^(debian:(12|bookworm)(-slim)? )+$' "$froms"
user="$(awk 'toupper($1) == "USER" { u = $2 } END { print u }' "$DOCKERFILE")"
assert_match "Dockerfile: the image runs as a non-root user (USER $user)" '^[1-9][0-9]*(:[1-9][0-9]*)?$' "$user"
# The runtime stage's packages: the last apt-get install's names.
runtime_pkgs="$(awk '/^FROM/ { text = "" } { text = text " " $0 } END { print text }' "$DOCKERFILE" |
  sed -e 's/\\//g' | grep -o 'apt-get install[^&]*' | tail -n 1 | tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' |
  grep -vxE 'apt-get|install' | sort -u)"
missing_pkgs=""
for p in $runtime_pkgs; do apt-cache show "$p" >/dev/null 2>&1 || missing_pkgs+=" $p"; done
assert_eq "Dockerfile: every runtime package exists in Debian 12" "" "$missing_pkgs"
# Every library the binary loads comes from a listed package or one that
# debian:12-slim always has.
base="libc6 libstdc++6 libgcc-s1 zlib1g"
# A sanitizer build (--config=asan, MODGATE_SANITIZER) also loads the
# sanitizers' runtimes; the image ships a release build, which does not.
[[ -n "${MODGATE_SANITIZER:-}" ]] && base+=" libasan8 libubsan1"
unlisted=""
# One dpkg -S for all of them (it reads the whole package database per
# call), by the path ldd names and by the real path: dpkg knows a file
# under whichever its package installed it (/lib or /usr/lib).
mapfile -t libs < <(ldd "$MODGATE" | awk '/=>/ { print $3 }')
owners="$(for lib in "${libs[@]}"; do echo "$lib"; readlink -f "$lib"; done | xargs -r dpkg -S 2>/dev/null)"
for lib in "${libs[@]}"; do
  real="$(readlink -f "$lib")"
  pkg="$(awk -v a="$lib" -v b="$real" '$NF == a || $NF == b { sub(/:.*/, "", $1); print $1; exit }' <<<"$owners")"
  [[ -z "$pkg" ]] && { unlisted+=" $lib(no-package)"; continue; }
  grep -qxF "$pkg" <<<"$runtime_pkgs" || [[ " $base " == *" $pkg "* ]] || unlisted+=" $pkg"
done
assert_eq "Dockerfile: the runtime stage installs the package of every library modgate loads" "" "$(tr ' ' '\n' <<<"$unlisted" | sort -u | tr '\n' ' ' | sed 's/^ *//; s/ *$//')"
ldd "$MODGATE" | grep -qE 'lib(ssl|crypto)\.so\.3' && fail "modgate loads no OpenSSL 3" "$(ldd "$MODGATE" | grep -E 'so\.3')" ||
  pass "modgate loads no OpenSSL 3 (BoringSSL only)"

# ---- systemd unit ----------------------------------------------------------------------
UNIT="$EXAMPLES/systemd/modgate.service"
effective() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' \
  "$WORK/configs/systemd--modgate.json" "$@" 2>/dev/null; }
cache_dir="$(effective cache dir)"
drain="$(effective limits drain_timeout)"
stop="$(awk -F= '$1 == "TimeoutStopSec" { print $2 }' "$UNIT")"
for want in DynamicUser=yes ProtectSystem=strict "ReadWritePaths=$cache_dir" NoNewPrivileges=yes \
  ProtectHome=yes PrivateTmp=yes CapabilityBoundingSet= CacheDirectory=modgate; do
  grep -qxF "$want" "$UNIT" && pass "systemd unit: $want" || fail "systemd unit: $want" "not in $UNIT"
done
assert_eq "systemd unit: TimeoutStopSec ($stop) exceeds the config's drain_timeout ($drain)" yes \
  "$(python3 -c "print('yes' if float('${stop%s}') > float('${drain%s}' or 'inf') else 'no')")"
grep -q "^ExecStart=.* -c /etc/modgate/modgate.yaml" "$UNIT" && pass "systemd unit: ExecStart reads /etc/modgate/modgate.yaml" ||
  fail "systemd unit: ExecStart reads /etc/modgate/modgate.yaml" "$(grep ^ExecStart "$UNIT")"
if command -v systemd-analyze >/dev/null; then
  sed "s|^ExecStart=[^ ]*|ExecStart=$(readlink -f "$MODGATE")|" "$UNIT" >"$WORK/modgate.service"
  if timeout 60 systemd-analyze verify "$WORK/modgate.service" >"$WORK/verify.out" 2>&1; then
    pass "systemd-analyze verify: the unit is valid"
  else
    fail "systemd-analyze verify" "$(head -c 400 "$WORK/verify.out")"
  fi
else
  skip "systemd-analyze verify" "systemd-analyze is not installed"
fi

finish
