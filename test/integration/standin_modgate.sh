#!/usr/bin/env bash
# A STAND-IN for modgate, for checking the integration scripts by hand
# before the real binary exists:
#
#   MODGATE_BIN=$PWD/test/integration/standin_modgate.sh bash test/integration/go_download_test.sh
#
# It takes modgate's flags and serves the fixture tree itself with origin.py
# (it does not proxy, cache, validate, speak h2c or set X-Cache), plus a tiny
# admin server answering /ready and /stats/prometheus. Tests that check
# proxy behaviour therefore fail against it, for that reason.
# Never referenced from BUILD files or CI.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ "${1:-}" == validate ]]; then
  shift
  [[ "${1:-}" == -c && -r "${2:-}" ]] || { echo "usage: modgate validate -c FILE" >&2; exit 2; }
  echo "stand-in: $2 not checked (the stand-in validates nothing)"
  exit 0
fi

listen="" admin="" cache=""
while (($#)); do
  case "$1" in
    --listen) listen="$2"; shift 2 ;;
    --admin) admin="$2"; shift 2 ;;
    --cache-dir) cache="$2"; shift 2 ;;
    --upstream | --concurrency | --log-level) shift 2 ;;
    *) echo "stand-in: ignoring $1" >&2; shift ;;
  esac
done
root="${MODGATE_STANDIN_ROOT:-${MODGATE_FIXTURE_ORIGIN:-}}"
[[ -n "$listen" && -n "$admin" && -n "$cache" && -d "$root" ]] || {
  echo "stand-in: need --listen --admin --cache-dir and MODGATE_FIXTURE_ORIGIN" >&2; exit 2; }

admin_root="$cache/.standin-admin"
mkdir -p "$admin_root/stats"
echo ok >"$admin_root/ready"
echo "# stand-in: no metrics" >"$admin_root/stats/prometheus"

python3 "$here/origin.py" --root "$admin_root" --host "${admin%:*}" --port "${admin##*:}" &
apid=$!
python3 "$here/origin.py" --root "$root" --host "${listen%:*}" --port "${listen##*:}" &
mpid=$!
trap 'kill -TERM $apid $mpid 2>/dev/null; wait; exit 0' TERM INT
wait -n
kill -TERM $apid $mpid 2>/dev/null
wait
exit 1
