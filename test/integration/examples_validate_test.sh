#!/usr/bin/env bash
# Every shipped example config (examples/*.yaml, whatever files are there)
# passes `modgate validate -c FILE`, which prints the effective config: JSON
# whose clusters, endpoints, routes and sumdbs are the file's, with defaults
# filled in (timeouts, endpoint weights). That JSON is itself a valid config
# and validates to the same effective config.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init --no-fixture

if [[ -n "${MODGATE_EXAMPLES_DIR:-}" ]]; then EXAMPLES="$MODGATE_EXAMPLES_DIR"
elif [[ -f "$INTEG_DIR/../../examples/basic.yaml" ]]; then EXAMPLES="$INTEG_DIR/../../examples"
else EXAMPLES="$REPO_ROOT/examples"; fi

shopt -s nullglob
files=("$EXAMPLES"/*.yaml "$EXAMPLES"/*.yml "$EXAMPLES"/*.json)
((${#files[@]} > 0)) || die "no example configs in $EXAMPLES"
log "${#files[@]} example configs in $EXAMPLES"

for f in "${files[@]}"; do
  b="$(basename "$f")"
  timeout 30 "$MODGATE" validate -c "$f" >"$WORK/$b.out" 2>"$WORK/$b.err"; rc=$?
  if ((rc != 0)); then
    fail "examples/$b: modgate validate -c succeeds" "exit $rc"
    show_tail "$WORK/$b.err" 10 stderr; show_tail "$WORK/$b.out" 10 stdout
    continue
  fi
  pass "examples/$b: modgate validate -c succeeds ($(head -n 1 "$WORK/$b.err" | cut -c1-100))"

  # The effective config: JSON, matching the file, defaults filled in.
  if python3 - "$f" "$WORK/$b.out" >"$WORK/$b.check" 2>&1 <<'EOF'
import json, re, sys
src, out = sys.argv[1], sys.argv[2]
eff = json.load(open(out))
problems = []
try:
    import yaml
    cfg = yaml.safe_load(open(src)) if not src.endswith(".json") else json.load(open(src))
except ImportError:
    cfg = None
if cfg is not None:
    eff_clusters = {c["name"]: c for c in eff.get("clusters", [])}
    for c in cfg.get("clusters", []):
        e = eff_clusters.get(c["name"])
        if e is None:
            problems.append("cluster %s missing" % c["name"]); continue
        want = [ep["url"] for ep in c.get("endpoints", [])]
        got = [ep.get("url") for ep in e.get("endpoints", [])]
        if want != got:
            problems.append("cluster %s endpoints %s != %s" % (c["name"], got, want))
        for ep_src, ep in zip(c.get("endpoints", []), e.get("endpoints", [])):
            if ep.get("weight") != ep_src.get("weight", 1):
                problems.append("cluster %s endpoint %s weight %s (want %s)" % (c["name"], ep.get("url"), ep.get("weight"), ep_src.get("weight", 1)))
            if ep.get("priority", 0) != ep_src.get("priority", 0):
                problems.append("cluster %s endpoint %s priority %s" % (c["name"], ep.get("url"), ep.get("priority")))
        for k in ("connect_timeout", "response_timeout", "idle_timeout"):
            if k not in e:
                problems.append("cluster %s: default %s not filled in" % (c["name"], k))
        if c.get("lb_policy", "ROUND_ROBIN") != e.get("lb_policy", "ROUND_ROBIN"):
            problems.append("cluster %s lb_policy %s" % (c["name"], e.get("lb_policy")))
        for k in ("health_check", "outlier_detection", "retry_policy"):
            if (k in c) != (k in e):
                problems.append("cluster %s: %s present in file %s, in output %s" % (c["name"], k, k in c, k in e))
    if len(eff_clusters) < len(cfg.get("clusters", [])):
        problems.append("clusters: %d in output, %d in file" % (len(eff_clusters), len(cfg.get("clusters", []))))
    want_routes = [r.get("name", "") for r in cfg.get("routes", [])]
    got_routes = [r.get("name", "") for r in eff.get("routes", [])]
    if want_routes and want_routes != got_routes[:len(want_routes)]:
        problems.append("routes %s != %s" % (got_routes, want_routes))
    want_db = [d["name"] for d in cfg.get("sumdbs", [])]
    got_db = [d.get("name") for d in eff.get("sumdbs", [])]
    if want_db != got_db:
        problems.append("sumdbs %s != %s" % (got_db, want_db))
else:
    # No PyYAML: every url in the file appears in the output.
    for u in re.findall(r"^\s*-?\s*url:\s*(\S+)", open(src).read(), re.M):
        if '"url": "%s"' % u.strip("\"'") not in open(out).read():
            problems.append("url %s missing" % u)
if not eff.get("clusters"):
    problems.append("no clusters in the effective config")
for p in problems:
    print(p)
print("%d clusters, %d routes, %d sumdbs" % (len(eff.get("clusters", [])), len(eff.get("routes", [])), len(eff.get("sumdbs", []))))
sys.exit(1 if problems else 0)
EOF
  then pass "examples/$b: the printed effective config is JSON matching the file, defaults filled in ($(tail -n 1 "$WORK/$b.check"))"
  else fail "examples/$b: the printed effective config matches the file" "$(head -c 600 "$WORK/$b.check" | tr '\n' ';')"; continue; fi

  # Round trip: the effective config validates to itself.
  cp "$WORK/$b.out" "$WORK/$b.effective.json"
  timeout 30 "$MODGATE" validate -c "$WORK/$b.effective.json" >"$WORK/$b.again" 2>"$WORK/$b.again.err"; rc=$?
  if ((rc == 0)) && cmp -s "$WORK/$b.out" "$WORK/$b.again"; then
    pass "examples/$b: the effective config validates again, to the same output"
  else
    fail "examples/$b: the effective config validates again, to the same output" "exit $rc; $(head -c 300 "$WORK/$b.again.err" | tr '\n' ' ') $(diff "$WORK/$b.out" "$WORK/$b.again" | head -6 | tr '\n' ';')"
  fi
done
finish
