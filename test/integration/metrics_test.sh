#!/usr/bin/env bash
# The latency histograms count exactly the requests sent (by kind and cache
# result, downstream; by cluster, upstream), their buckets are cumulative
# and end in +Inf = _count, and every metric the Grafana dashboard
# (examples/grafana/modgate-dashboard.json) queries exists in
# /stats/prometheus.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init

DASHBOARD="$(dirname "${BASH_SOURCE[0]}")/../../examples/grafana/modgate-dashboard.json"
[[ -f "$DASHBOARD" ]] || die "no dashboard at $DASHBOARD"

start_origin
start_modgate --cache-dir "$WORK/cache"

scrape() { curl -s --max-time 10 "$ADMIN_URL/stats/prometheus" >"$WORK/prom.$1"; }
# value FILE SERIES: a sample's value, or 0 when absent.
value() { awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' "$WORK/prom.$1"; }

INFO=/github.com/google/uuid/@v/v1.3.0.info
MOD=/github.com/google/uuid/@v/v1.3.0.mod
HITS=25
scrape 0
# The .mod first: a .info miss would fetch its .mod too, making the .mod a hit.
http_get "$PROXY_URL$MOD" >/dev/null
http_get "$PROXY_URL$INFO" >/dev/null
sleep 0.5 # the cache commit may trail the response
for ((i = 0; i < HITS; i++)); do http_get "$PROXY_URL$INFO" >/dev/null; done
http_get "$PROXY_URL/github.com/google/uuid/@v/v1.3.0.exe" >/dev/null
scrape 1

d() { echo $(($(value 1 "$1") - $(value 0 "$1"))); }
D=modgate_downstream_rq_duration_seconds
T=modgate_downstream_rq_time_to_first_byte_seconds
assert_eq "duration _count: $HITS info hits, 1 info miss, 1 mod miss, 1 bad path" "$HITS 1 1 1" \
  "$(d "${D}_count{kind=\"info\",cache=\"hit\"}") $(d "${D}_count{kind=\"info\",cache=\"miss\"}") $(d "${D}_count{kind=\"mod\",cache=\"miss\"}") $(d "${D}_count{kind=\"other\",cache=\"none\"}")"
assert_eq "time-to-first-byte _count the same" "$HITS 1" \
  "$(d "${T}_count{kind=\"info\",cache=\"hit\"}") $(d "${T}_count{kind=\"info\",cache=\"miss\"}")"
ups="$(awk '/^modgate_upstream_rq_time_to_headers_seconds_count\{/ { n += $2 } END { print n + 0 }' "$WORK/prom.1")"
assert_eq "upstream time to headers counts the 2 fetches" 2 "$ups"

check_buckets="$(python3 - "$WORK/prom.1" <<'EOF'
import re, sys
series = {}
for line in open(sys.argv[1]):
    m = re.match(r'^(modgate_\w+_seconds)_bucket\{(.*),le="([^"]+)"\} (\S+)$', line)
    if m:
        series.setdefault((m.group(1), m.group(2)), []).append((m.group(3), float(m.group(4))))
        continue
    m = re.match(r'^(modgate_\w+_seconds)_count\{(.*)\} (\S+)$', line)
    if m:
        series.setdefault((m.group(1), m.group(2)), []).append(("count", float(m.group(3))))
bad = []
for key, points in series.items():
    buckets = [v for le, v in points if le != "count"]
    count = [v for le, v in points if le == "count"]
    if any(b > a for a, b in zip(buckets[1:], buckets)) or points[-2][0] != "+Inf" or count != [buckets[-1]]:
        bad.append("%s{%s}" % key)
print("%d series; bad: %s" % (len(series), bad[:3]) if bad else "ok %d" % len(series))
EOF
)"
assert_match "every histogram's buckets are cumulative and +Inf equals _count" '^ok [0-9]+$' "$check_buckets"

missing="$(python3 - "$DASHBOARD" "$WORK/prom.1" <<'EOF'
import json, re, sys
dash = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
used = sorted({m for e in exprs for m in re.findall(r'\b(modgate_[a-z0-9_]+)', e)})
exposed = set()
for line in open(sys.argv[2]):
    m = re.match(r'^(modgate_[a-z0-9_]+)[{ ]', line)
    if m: exposed.add(m.group(1))
missing = [u for u in used if u not in exposed]
print(("%d used, missing: %s" % (len(used), " ".join(missing))) if missing else "ok %d" % len(used))
EOF
)"
assert_match "every metric the Grafana dashboard uses is exported" '^ok [0-9]+$' "$missing"

finish
