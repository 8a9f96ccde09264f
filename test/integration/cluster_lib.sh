# shellcheck shell=bash
# shellcheck disable=SC2034  # variables here are read by the sourcing test scripts
# Helpers for the upstream cluster tests (load balancing, health checks,
# outlier detection, retries, circuit breakers). Sourced after lib.sh:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
#
# Origins are started by name (start_named_origin A ...) so a test can keep
# several and count each one's requests; lb_client.py sends many distinct
# requests over keep-alive connections.

LB_CLIENT="$INTEG_DIR/lb_client.py"
# start_origin runs $ORIGIN_PY: the same origin with Nagle off (see the file).
ORIGIN_PY="$INTEG_DIR/nodelay_origin.py"

declare -A O_URL=() O_LOG=() O_PID=() O_HOST=() O_PORT=()

# start_named_origin NAME [origin.py flags]: start_origin, remembered under
# NAME: O_URL[NAME] O_LOG[NAME] O_PID[NAME] O_PORT[NAME] O_HOST[NAME]
# ("127.0.0.1:port", the host name in /clusters and the metrics).
start_named_origin() {
  local name="$1"; shift
  start_origin "$@"
  O_URL[$name]="$ORIGIN_URL"
  O_LOG[$name]="$ORIGIN_LOG"
  O_PID[$name]="$ORIGIN_PID"
  O_PORT[$name]="$ORIGIN_PORT"
  O_HOST[$name]="127.0.0.1:$ORIGIN_PORT"
}

# kill_named_origin NAME [SIGNAL]: signal it (default KILL) and reap it.
kill_named_origin() {
  local pid="${O_PID[$1]}"
  kill "-${2:-KILL}" "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  _forget_pid "$pid"
}

# run_paths PATHFILE CONCURRENCY [OUT]: GET every path of PATHFILE once
# through modgate with lb_client.py; RUN_JSON is its summary line (see
# lb_client.py), RUN_OUT the per-request lines.
run_paths() {
  local file="$1" conc="$2"
  RUN_OUT="${3:-$WORK/run.out}"
  RUN_JSON="$(timeout -k 5 300 python3 "$LB_CLIENT" --base "$PROXY_URL" --paths "$file" \
    --concurrency "$conc" --out "$RUN_OUT" 2>"$WORK/lb_client.err")" ||
    { show_tail "$WORK/lb_client.err" 10 "lb_client stderr"; RUN_JSON='{}'; }
}

# json_field JSON KEY...: a (nested) field of a JSON object, "" when absent.
json_field() {
  python3 -c '
import json, sys
o = json.loads(sys.argv[1] or "{}")
for k in sys.argv[2:]:
    o = o.get(k, "") if isinstance(o, dict) else ""
print(o)' "$@"
}

# run_status_count CODE: how many requests of the last run_paths got CODE.
run_status_count() { local v; v="$(json_field "$RUN_JSON" status "$1")"; echo "${v:-0}"; }

# count_paths LOG REGEX: requests in an origin log whose path matches REGEX.
count_paths() { awk -v re="$2" '$2 ~ re { n++ } END { print n + 0 }' "$1"; }

# clusters_get: admin /clusters into $WORK/clusters.txt.
clusters_get() { curl -s --max-time 5 "$ADMIN_URL/clusters" >"$WORK/clusters.txt" 2>/dev/null; }

# host_field CLUSTER HOST FIELD: one value of /clusters (fetched now).
host_field() {
  clusters_get
  awk -v k="$1::$2::$3::" 'index($0, k) == 1 { print substr($0, length(k) + 1) }' "$WORK/clusters.txt"
}

# max_open_connections CONN_LOG: the most connections open at once in an
# origin's --conn-log.
max_open_connections() {
  awk '$1 == "open" { n++; if (n > m) m = n } $1 == "close" { n-- } END { print m + 0 }' "$1"
}

# flags_are CLUSTER HOST REGEX: the host's health_flags match REGEX.
flags_are() { [[ "$(host_field "$1" "$2" health_flags)" =~ $3 ]]; }

# make_healthz_tree DEST: a copy of the fixture with a /healthz file at
# its root (origin.py serves files), for active health checks.
make_healthz_tree() {
  copy_fixture "$1" || die "cannot copy the fixture to $1"
  echo ok >"$1/healthz"
}

# write_health_checked_config FILE CLUSTER [PRIORITY_A PRIORITY_B]: a
# modgate config whose one route "all" goes to CLUSTER, the named origins A
# and B, with an active health check on /healthz (every 200ms, timeout
# 100ms, thresholds 2) and, when given, each endpoint's priority.
write_health_checked_config() {
  local file="$1" cluster="$2" priority_a="${3:-}" priority_b="${4:-}"
  {
    printf '%s\n' "clusters:" "  - name: $cluster" "    endpoints:" "      - url: ${O_URL[A]}"
    [[ -n "$priority_a" ]] && printf '%s\n' "        priority: $priority_a"
    printf '%s\n' "      - url: ${O_URL[B]}"
    [[ -n "$priority_b" ]] && printf '%s\n' "        priority: $priority_b"
    cat <<EOF
    health_check:
      path: /healthz
      interval: 200ms
      timeout: 100ms
      unhealthy_threshold: 2
      healthy_threshold: 2
routes:
  - name: all
    cluster: $cluster
EOF
  } >"$file"
}

# share_check CASE TOLERANCE_PERCENT "NAME=COUNT=WEIGHT"...: PASS when each
# count's share of the total is within TOLERANCE percentage points of its
# weight's share. The message lists the measured shares.
share_check() {
  local name="$1" tol="$2"; shift 2
  local out rc
  out="$(python3 -c '
import sys
tol = float(sys.argv[1])
items = [a.split("=") for a in sys.argv[2:]]
total = sum(int(c) for _, c, _ in items)
wsum = sum(float(w) for _, _, w in items)
ok = total > 0
parts = []
for n, c, w in items:
    share = 100.0 * int(c) / total if total else 0.0
    want = 100.0 * float(w) / wsum
    ok = ok and abs(share - want) <= tol
    parts.append("%s %s=%.2f%% (want %.0f%%)" % (n, c, share, want))
print("total %d: %s" % (total, ", ".join(parts)))
sys.exit(0 if ok else 1)' "$tol" "$@")"; rc=$?
  if ((rc == 0)); then pass "$name ($out)"; else fail "$name" "not within ±$tol points: $out"; fi
  return $rc
}
