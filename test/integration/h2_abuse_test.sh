#!/usr/bin/env bash
# HTTP/2 abuse limits (issue 11, part 5): each attack client (h2_attack.py,
# Python hyperframe/hpack) runs while a normal client asks for a module at
# the same time, over h2c and (for the floods) over TLS with ALPN h2:
#   rapid reset (by the client, or provoked from the server), endless
#   CONTINUATION, oversized SETTINGS, PING and
#   SETTINGS floods whose ACKs are never read: the attacker's connection is
#   closed (GOAWAY, or a reset when its socket is full of unread ACKs) and
#   counted in modgate_downstream_cx_protocol_error_total;
#   too many concurrent streams: refused;
#   3000 small headers and an HPACK bomb (one 4000-byte table entry
#   referenced 10000 times, 40 MB decoded): 431, and the same connection
#   serves a normal request next; one 100 KiB header value: GOAWAY
#   (COMPRESSION_ERROR); a normal header block split over 5 CONTINUATION
#   frames is served.
# The normal client must get every answer, modgate's peak RSS must stay
# within 64 MiB of where it started, and modgate must stay up. Then
# limits.http2 set below the defaults (reset bucket 5 at 1/s, 2
# CONTINUATION frames) must cut rapid reset earlier and refuse the split
# header block.
# Correctness only: the normal client's times are printed, never asserted.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$INTEG_DIR/reload_lib.sh"
source "$INTEG_DIR/tls_lib.sh"
integ_init
command -v openssl >/dev/null || die "openssl is missing"
PY=/usr/bin/python3
"$PY" -c 'import hyperframe, hpack' 2>/dev/null || die "python3-hyperframe/python3-hpack are missing"
pki="$WORK/pki"
make_pki "$pki"
start_origin
p=/github.com/google/uuid/@v/v1.3.0.info

# write_config FILE [HTTP2_LIMITS_YAML]
write_config() {
  cat >"$1" <<YAML
$(plain_and_tls_listeners "$pki")
$(origin_yaml)
${2:+limits:
  http2:
$2}
YAML
}

# normal_client N OUT: N h2c requests, "code seconds" per line.
normal_client() {
  local i
  for ((i = 0; i < $1; i++)); do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 60 --http2-prior-knowledge "$PROXY_URL$p"
  done >"$2"
}
peak_rss_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$MODGATE_PID/status"; }
protocol_errors() { prom_value modgate_downstream_cx_protocol_error_total protocol="$1"; }

# attack NAME REGEX [--tls]: runs h2_attack.py NAME beside a normal client;
# its one-line result must match REGEX. RESULT holds it.
attack() {
  local name="$1" regex="$2" tls="${3:-}" port="${PORTS[0]}" label="$1" good
  [[ -n "$tls" ]] && port="${PORTS[1]}" label="$1 over TLS"
  normal_client 30 "$WORK/normal.$name$tls" &
  local normal=$!
  RESULT="$(timeout 300 "$PY" "$INTEG_DIR/h2_attack.py" "$port" "$name" "$p" $tls 2>&1)"
  wait "$normal"
  if [[ "$RESULT" =~ $regex ]]; then pass "$label: $RESULT"
  else fail "$label" "attacker saw [$RESULT], expected /$regex/"; fi
  good="$(grep -c '^200 ' "$WORK/normal.$name$tls")"
  assert_eq "$label: a normal client at the same time gets all 30 answers (median $(median_time "$WORK/normal.$name$tls") s)" 30 "$good"
}

# closed_attack NAME REGEX PROTOCOL [--tls]: attack, and the connection
# must be counted as closed for a protocol error.
closed_attack() {
  local before
  before="$(protocol_errors "$3")"
  attack "$1" "$2" "${4:-}"
  if wait_until 60 eval "((\$(protocol_errors $3) > $before))"; then
    pass "$1${4:+ over TLS}: counted in modgate_downstream_cx_protocol_error_total{protocol=\"$3\"} ($before -> $(protocol_errors "$3"))"
  else fail "$1${4:+ over TLS}: counted as a protocol error" "still $(protocol_errors "$3")"; fi
}

pick_ports 2
write_config "$WORK/defaults.yaml"
start_modgate_file "$WORK/defaults.yaml"
PROXY_URL="http://127.0.0.1:${PORTS[0]}"
code="$(http_get "$PROXY_URL$p")"
assert_eq "warm-up: $p is 200" 200 "$code"
normal_client 10 "$WORK/baseline"
log "normal client alone: median $(median_time "$WORK/baseline") s"
rss_start="$(peak_rss_kb)"

# nghttp2 answers a reset past the bucket with GOAWAY; which code depends
# on the version, so any GOAWAY passes.
closed_attack rapid_reset '^goaway ' h2c
default_last="$(sed -nE 's/.*last stream ([0-9]+).*/\1/p' <<<"$RESULT")"
# The bucket starts full: 200 resets always pass, so the server processed
# at least stream 399 before it said enough.
if [[ -n "$default_last" ]] && ((default_last >= 399)); then
  pass "rapid_reset: the default bucket (200) let the first 200 resets through (last stream $default_last)"
else fail "rapid_reset: the default bucket" "last stream [$default_last]"; fi
# Streams the server itself resets (a declared body that never comes): no
# client RST_STREAM for nghttp2 to count. modgate's own reset bucket ends
# the connection (ENHANCE_YOUR_CALM), unless 100 such streams were open at
# once first (nghttp2: PROTOCOL_ERROR past max_concurrent_streams).
closed_attack made_you_reset '^goaway (ENHANCE_YOUR_CALM|PROTOCOL_ERROR)' h2c
made_you_reset_last="$(sed -nE 's/.*last stream ([0-9]+).*/\1/p' <<<"$RESULT")"
closed_attack continuation '^goaway ENHANCE_YOUR_CALM' h2c
closed_attack settings '^goaway ' h2c
# The client never reads: its socket fills with ACKs, so the GOAWAY may not
# reach it before the reset; either way far fewer than 2,000,000 frames go in.
closed_attack ping '^(closed|goaway ENHANCE_YOUR_CALM)' h2c
closed_attack settings_ack '^(closed|goaway ENHANCE_YOUR_CALM)' h2c
# Streams past the limit are refused until the client has acknowledged the
# limit; after that nghttp2 ends the connection (PROTOCOL_ERROR).
attack streams '^(refused [0-9]+|goaway PROTOCOL_ERROR)'
attack many_headers '^status 431 then 200$'
attack hpack_bomb '^status 431 then 200$'
# nghttp2 refuses a single header field over 64 KiB outright.
attack huge_value '^(status 431 then 200|goaway COMPRESSION_ERROR)'
attack split_headers '^status 200$'
closed_attack ping '^(closed|goaway ENHANCE_YOUR_CALM)' h2 --tls
# Over TLS the GOAWAY can be lost to the reset of a connection closed while
# the attacker still sends; the counter says why it was closed.
closed_attack rapid_reset '^(goaway |closed)' h2 --tls
attack hpack_bomb '^status 431 then 200$' --tls

rss_end="$(peak_rss_kb)"
if rss_bounds_apply "peak RSS bounded through the attacks"; then
  if ((rss_end - rss_start < 65536)); then
    pass "modgate's peak RSS stayed bounded through the attacks (${rss_start} KiB -> ${rss_end} KiB)"
  else fail "peak RSS bounded" "${rss_start} KiB -> ${rss_end} KiB"; fi
fi
modgate_alive && pass "modgate is alive after the attacks" || fail "modgate alive" "it exited"
code="$(http_get "$PROXY_URL$p")"
assert_eq "and still serves" 200 "$code"
stop_modgate

# ---- limits.http2 below the defaults --------------------------------------------
pick_ports 2
write_config "$WORK/tight.yaml" "    stream_reset_burst: 5
    stream_resets_per_second: 1
    max_continuation_frames: 2"
start_modgate_file "$WORK/tight.yaml"
PROXY_URL="http://127.0.0.1:${PORTS[0]}"
closed_attack rapid_reset '^goaway ' h2c
last="$(sed -nE 's/.*last stream ([0-9]+).*/\1/p' <<<"$RESULT")"
# 5 resets, then one a second: 200 would take minutes.
if [[ -n "$last" ]] && ((last < 399)); then
  pass "stream_reset_burst 5: the connection is cut earlier (last stream $last, with the default $default_last)"
else fail "stream_reset_burst 5 cuts earlier" "last stream [$last], with the default $default_last"; fi
closed_attack made_you_reset '^goaway ENHANCE_YOUR_CALM' h2c
last="$(sed -nE 's/.*last stream ([0-9]+).*/\1/p' <<<"$RESULT")"
if [[ -n "$last" ]] && ((last < 399)); then
  pass "stream_reset_burst 5: server-side resets are cut earlier too (last stream $last, with the default $made_you_reset_last)"
else fail "stream_reset_burst 5 cuts server-side resets earlier" "last stream [$last]"; fi
# A header block in 6 frames: the third CONTINUATION is one too many.
closed_attack split_headers '^goaway ENHANCE_YOUR_CALM' h2c
modgate_alive && pass "modgate is alive after the attacks" || fail "modgate alive" "it exited"
finish
