#!/usr/bin/env bash
# Serving cached bodies from the page cache (issue 12), over HTTP/1.1
# (sendfile) and h2c (the file read a window at a time), with a 31 MB zip:
#   - 20 concurrent h2c downloads (nghttp) all get the fixture's bytes, and
#     modgate's peak RSS (VmHWM) stays far below one copy of the zip per
#     stream (a whole-body mapping per stream peaked at ~550 MB here);
#   - a client that stops reading half-way (SIGSTOP) and one that goes away
#     half-way; meanwhile the zip is evicted from the cache (a size cap just
#     above it, then the other fixture zips): the stopped client, resumed,
#     still gets every byte (the open file outlives its name), the evicted
#     entry is gone, and modgate keeps serving;
#   - the same over TLS with h2 by ALPN (curl and 20 nghttp downloads byte-exact,
#     then the stopped and the vanished client while the zip is evicted).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/reload_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/tls_lib.sh"
integ_init
command -v nghttp >/dev/null || die "nghttp is missing (apt-get install nghttp2-client)"

ZIP_P=/example.com/fixtures/large/@v/v1.0.0.zip
ZIP_F="$FIXTURE$ZIP_P"
size="$(stat -c %s "$ZIP_F")"
# Every other zip of the fixture: together they push the large one out.
OTHER_ZIPS=()
while read -r mod ver _; do
  [[ -z "$mod" || "$mod" == \#* || "$mod" == example.com/fixtures/large ]] && continue
  esc="$(sed -E 's/([A-Z])/!\L\1/g' <<<"$mod")"
  OTHER_ZIPS+=("/$esc/@v/$ver.zip")
done <"$FIXTURE/manifest.txt"

start_origin
# Room for the large zip and a little more: the other zips evict it.
start_modgate --cache-max-bytes $((size + 4000000))

warm() {
  curl -s -o /dev/null --max-time 120 "$PROXY_URL$ZIP_P"
  zip_hit() { [[ "$(curl -s -o /dev/null -D - --max-time 60 "$PROXY_URL$ZIP_P" | header X-Cache /dev/stdin)" == HIT ]]; }
  wait_until 60 zip_hit || fail "warm: $ZIP_P is a HIT" "no HIT"
}
vmhwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$MODGATE_PID/status"; }
# grown FILE BYTES: true once FILE holds at least BYTES.
grown() { [[ -f "$1" ]] && (($(stat -c %s "$1") >= $2)); }

# ---- 20 concurrent h2c downloads --------------------------------------------------------
# twenty_downloads URL: 20 concurrent nghttp downloads of URL; prints how
# many differ from the fixture. nghttp does not verify a TLS certificate; it
# negotiates h2 by ALPN over https.
twenty_downloads() {
  local pids=() i bad=0
  for i in $(seq 1 20); do
    timeout 300 nghttp "$1" >"$WORK/h2.$i" 2>/dev/null &
    pids+=($!)
  done
  for i in $(seq 1 20); do
    wait "${pids[$((i - 1))]}"
    cmp -s "$WORK/h2.$i" "$ZIP_F" || bad=$((bad + 1))
  done
  rm -f "$WORK"/h2.*
  echo "$bad"
}
warm
assert_eq "h2c: 20 concurrent downloads of the $size-byte zip all equal the fixture" 0 "$(twenty_downloads "$PROXY_URL$ZIP_P")"
hwm="$(vmhwm_kib)"
if rss_bounds_apply "h2c: modgate's peak RSS stays well below a copy per stream"; then
  if ((hwm < 128 * 1024)); then pass "h2c: modgate's peak RSS stayed at $((hwm / 1024)) MiB (20 streams of a $((size >> 20)) MiB zip)"
  else fail "h2c: modgate's peak RSS stays well below a copy per stream" "VmHWM $((hwm / 1024)) MiB"; fi
fi

# ---- stopped and vanished clients while the zip is evicted ------------------------------
# stopped_and_vanished PROTO URL CURL_FLAGS...: URL is where the slow and the
# vanished client fetch the zip; warming and evicting go through PROXY_URL.
stopped_and_vanished() {
  local proto="$1" url="$2"; shift 2
  warm
  curl -sS --max-time 300 --limit-rate 4M "$@" -o "$WORK/slow.zip" "$url$ZIP_P" 2>"$WORK/slow.err" &
  slow=$!
  wait_until 60 grown "$WORK/slow.zip" $((2 << 20)) || fail "$proto: the slow client got its first 2 MiB" "$(stat -c %s "$WORK/slow.zip" 2>/dev/null)"
  kill -STOP "$slow"
  curl -sS --max-time 300 --limit-rate 4M "$@" -o "$WORK/gone.zip" "$url$ZIP_P" 2>/dev/null &
  gone=$!
  wait_until 60 grown "$WORK/gone.zip" $((1 << 20))
  kill -KILL "$gone"; wait "$gone" 2>/dev/null
  for p in "${OTHER_ZIPS[@]}"; do curl -s -o /dev/null --max-time 120 "$PROXY_URL$p"; done
  evicted() { [[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Disable-Module-Fetch: true' "$PROXY_URL$ZIP_P")" == 404 ]]; }
  if wait_until 30 evicted; then pass "$proto: the zip was evicted while a client was stopped half-way through it"
  else fail "$proto: the zip was evicted" "a cache-only GET still finds it"; fi
  kill -CONT "$slow"
  wait "$slow"; rc=$?
  if ((rc == 0)) && cmp -s "$WORK/slow.zip" "$ZIP_F"; then
    pass "$proto: the stopped client, resumed after the eviction, got all $size bytes"
  else fail "$proto: the stopped client got the whole zip after the eviction" "curl exit $rc, $(stat -c %s "$WORK/slow.zip") bytes; $(head -c 200 "$WORK/slow.err")"; fi
  code="$(http_get "$PROXY_URL/github.com/google/uuid/@v/v1.3.0.info")"
  assert_eq "$proto: modgate still serves after the vanished client" 200 "$code"
  rm -f "$WORK/slow.zip" "$WORK/gone.zip"
}
stopped_and_vanished h1 "$PROXY_URL" --http1.1
stopped_and_vanished h2c "$PROXY_URL" --http2-prior-knowledge

# ---- the same over TLS with h2 (ALPN) ----------------------------------------------------
# DATA frames are sized to fill one TLS record and encrypted where they lie;
# the records go straight into the connection's output buffer.
stop_modgate
make_pki "$WORK/pki" >/dev/null 2>&1 || die "openssl: the test PKI"
pick_ports 2
TLS_URL="https://localhost:${PORTS[1]}"
{
  plain_and_tls_listeners "$WORK/pki"
  # The same cache, capped as above.
  origin_yaml | sed "s|^  dir: $WORK/cache\$|&\\n  max_bytes: $((size + 4000000))|"
} >"$WORK/tls.yaml"
grep -q "max_bytes: $((size + 4000000))" "$WORK/tls.yaml" || die "tls.yaml has no cache max_bytes"
start_modgate_file "$WORK/tls.yaml"
warm
version="$(curl -sS --max-time 120 --http2 --cacert "$WORK/pki/ca.pem" -o "$WORK/tls.zip" -w '%{http_version}' "$TLS_URL$ZIP_P")"
if [[ "$version" == 2 ]] && cmp -s "$WORK/tls.zip" "$ZIP_F"; then pass "h2 over TLS: curl got the $size-byte zip over HTTP/2, byte-exact"
else fail "h2 over TLS: curl got the zip over HTTP/2" "HTTP/$version, $(stat -c %s "$WORK/tls.zip" 2>/dev/null) bytes"; fi
rm -f "$WORK/tls.zip"
assert_eq "h2 over TLS: 20 concurrent downloads of the $size-byte zip all equal the fixture" 0 \
  "$(twenty_downloads "$TLS_URL$ZIP_P")"
stopped_and_vanished "h2 over TLS" "$TLS_URL" --http2 --cacert "$WORK/pki/ca.pem"

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
