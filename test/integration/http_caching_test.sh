#!/usr/bin/env bash
# HTTP caching semantics on cached artifacts (issue 14), over HTTP/1.1 and
# h2c (curl --http2-prior-knowledge, and nghttp once), on each body path:
# a .info and a .mod (bodies in memory), a 31 MB .zip (sendfile on HTTP/1.1,
# a mapped file range on h2c):
#   - a HIT carries ETag (strong, from the content hash), Last-Modified and
#     Accept-Ranges: bytes;
#   - Range bytes=N-M, N-, -N: 206 with Content-Range and exactly those
#     fixture bytes; past the end: 416 with Content-Range: bytes */LEN;
#     several ranges: 200 with everything; HEAD ignores Range;
#   - If-None-Match (the ETag, or a list holding it) and If-Modified-Since
#     (Last-Modified): 304 without a body; another ETag: 200;
#   - If-Range with the ETag: 206; with another ETag: 200 with everything.
# Then a Range on a .zip still being fetched (slow origin): 206 served as the
# bytes arrive, sharing the one upstream fetch with a full GET; 416 on a cold
# key when the upstream announced the size. Then @v/list: an ETag, 304 on
# If-None-Match, and an expired list is revalidated with the origin
# conditionally (its 304 refreshes the entry without a body: REVALIDATED).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
integ_init
command -v nghttp >/dev/null || die "nghttp is missing (apt-get install nghttp2-client)"

INFO_P=/github.com/google/uuid/@v/v1.3.0.info
MOD_P=/github.com/%21burnt%21sushi/toml/@v/v1.2.0.mod
ZIP_P=/example.com/fixtures/large/@v/v1.0.0.zip
fixture_file() { printf '%s' "$FIXTURE${1//%21/!}"; }

# get PROTO PATH [curl args]: CODE, VERSION; headers in $WORK/h, body in $WORK/b.
get() {
  local proto="$1" p="$2"; shift 2
  local flag=--http1.1
  [[ "$proto" == h2c ]] && flag=--http2-prior-knowledge
  local out
  rm -f "$WORK/b" # curl writes no file for an empty body
  out="$(curl -sS --max-time 120 "$flag" -D "$WORK/h" -o "$WORK/b" -w '%{http_code} %{http_version}' "$@" "$PROXY_URL$p" 2>"$WORK/curl.err")"
  CODE="${out% *}" VERSION="${out#* }"
}
hdr() { header "$1" "$WORK/h"; }
# slice FILE FIRST LENGTH: those bytes of FILE.
slice() { tail -c +$(($2 + 1)) "$1" | head -c "$3"; }

start_origin
start_modgate

# Warm the three artifacts; a commit may trail the MISS's last byte.
for p in "$INFO_P" "$MOD_P" "$ZIP_P"; do
  curl -s -o /dev/null --max-time 120 "$PROXY_URL$p"
  is_hit() { get h1 "$p"; [[ "$CODE $(hdr X-Cache)" == "200 HIT" ]]; }
  wait_until 30 is_hit || fail "warm $p" "no 200 HIT after the first GET ($CODE $(hdr X-Cache))"
done

for proto in h1 h2c; do
  want_version=1.1; [[ "$proto" == h2c ]] && want_version=2
  for p in "$INFO_P" "$MOD_P" "$ZIP_P"; do
    f="$(fixture_file "$p")"
    size="$(stat -c %s "$f")"
    name="$proto ${p##*/}"

    get "$proto" "$p"
    etag="$(hdr ETag)" lm="$(hdr Last-Modified)"
    if [[ "$CODE" == 200 && "$VERSION" == "$want_version" && "$(hdr Accept-Ranges)" == bytes &&
      "$etag" =~ ^\"[0-9a-f]{32}\"$ && -n "$lm" ]] && cmp -s "$WORK/b" "$f"; then
      pass "$name: 200 HIT with a strong ETag $etag, Last-Modified and Accept-Ranges: bytes"
    else fail "$name: 200 with validators" "$CODE HTTP/$VERSION etag [$etag] lm [$lm] accept-ranges [$(hdr Accept-Ranges)]"; fi

    # range_case CASE RANGE FIRST LENGTH
    range_case() {
      get "$proto" "$p" -H "Range: $2"
      local want="bytes $3-$(($3 + $4 - 1))/$size"
      if [[ "$CODE" == 206 && "$(hdr Content-Range)" == "$want" && "$(hdr Content-Length)" == "$4" &&
        "$(hdr ETag)" == "$etag" ]] && cmp -s "$WORK/b" <(slice "$f" "$3" "$4"); then
        pass "$name: Range $2: 206, Content-Range $want, the fixture's bytes"
      else fail "$name: Range $2: 206 $want" "$CODE, Content-Range [$(hdr Content-Range)], $(stat -c %s "$WORK/b") bytes"; fi
    }
    range_case first "bytes=0-9" 0 10
    range_case middle "bytes=$((size / 3))-$((size / 2))" $((size / 3)) $((size / 2 - size / 3 + 1))
    range_case open "bytes=$((size - 17))-" $((size - 17)) 17
    range_case suffix "bytes=-7" $((size - 7)) 7
    range_case past-end-cut "bytes=$((size - 3))-$((size + 100))" $((size - 3)) 3

    get "$proto" "$p" -H "Range: bytes=$size-"
    if [[ "$CODE" == 416 && "$(hdr Content-Range)" == "bytes */$size" ]]; then
      pass "$name: Range past the end: 416, Content-Range: bytes */$size"
    else fail "$name: Range past the end: 416" "$CODE, Content-Range [$(hdr Content-Range)]"; fi

    get "$proto" "$p" -H "Range: bytes=0-1,5-6"
    if [[ "$CODE" == 200 ]] && cmp -s "$WORK/b" "$f"; then pass "$name: two ranges: 200 with the whole body"
    else fail "$name: two ranges: 200 with the whole body" "$CODE, $(stat -c %s "$WORK/b") bytes"; fi

    get "$proto" "$p" -I -H "Range: bytes=0-9"
    if [[ "$CODE" == 200 && "$(hdr Content-Length)" == "$size" ]]; then pass "$name: HEAD ignores Range (200, Content-Length $size)"
    else fail "$name: HEAD ignores Range" "$CODE, Content-Length [$(hdr Content-Length)]"; fi

    for cond in "If-None-Match: $etag" "If-None-Match: \"other\", W/$etag" "If-Modified-Since: $lm"; do
      get "$proto" "$p" -H "$cond"
      if [[ "$CODE" == 304 && ! -s "$WORK/b" && "$(hdr ETag)" == "$etag" ]]; then pass "$name: $cond: 304, no body"
      else fail "$name: $cond: 304" "$CODE, $(stat -c %s "$WORK/b") bytes, ETag [$(hdr ETag)]"; fi
    done
    get "$proto" "$p" -H 'If-None-Match: "0123456789abcdef0123456789abcdef"'
    if [[ "$CODE" == 200 ]] && cmp -s "$WORK/b" "$f"; then pass "$name: If-None-Match with another ETag: 200 with the body"
    else fail "$name: If-None-Match with another ETag: 200" "$CODE"; fi
    get "$proto" "$p" -H "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT"
    if [[ "$CODE" == 200 ]]; then pass "$name: If-Modified-Since before Last-Modified: 200"
    else fail "$name: If-Modified-Since before Last-Modified: 200" "$CODE"; fi

    get "$proto" "$p" -H "Range: bytes=5-" -H "If-Range: $etag"
    if [[ "$CODE" == 206 ]] && cmp -s "$WORK/b" <(slice "$f" 5 $((size - 5))); then pass "$name: If-Range with the ETag: 206"
    else fail "$name: If-Range with the ETag: 206" "$CODE"; fi
    get "$proto" "$p" -H "Range: bytes=5-" -H 'If-Range: "0123456789abcdef0123456789abcdef"'
    if [[ "$CODE" == 200 ]] && cmp -s "$WORK/b" "$f"; then pass "$name: If-Range with another ETag: 200 with the whole body"
    else fail "$name: If-Range with another ETag: 200" "$CODE, $(stat -c %s "$WORK/b") bytes"; fi
  done
done

# nghttp, the other HTTP/2 client: a range of the large zip.
f="$(fixture_file "$ZIP_P")"
if timeout 120 nghttp -nv -H 'range: bytes=1000000-1999999' "$PROXY_URL$ZIP_P" >"$WORK/nghttp.v" 2>&1 &&
  timeout 120 nghttp -H 'range: bytes=1000000-1999999' "$PROXY_URL$ZIP_P" >"$WORK/nghttp.b" 2>/dev/null; then
  status="$(awk '/recv \(stream_id=[0-9]+\) :status:/ { print $NF; exit }' "$WORK/nghttp.v")"
  if [[ "$status" == 206 ]] && grep -q 'content-range: bytes 1000000-1999999/' "$WORK/nghttp.v" &&
    cmp -s "$WORK/nghttp.b" <(slice "$f" 1000000 1000000); then
    pass "nghttp: Range of the zip over h2c: 206 and the fixture's bytes"
  else fail "nghttp: Range of the zip over h2c: 206" "status [$status], $(stat -c %s "$WORK/nghttp.b") bytes"; fi
else fail "nghttp: Range of the zip over h2c" "nghttp failed"; show_tail "$WORK/nghttp.v" 10 "nghttp -nv"; fi
stop_modgate
stop_origin

# ---- a Range on a .zip still being fetched ----------------------------------------------
# The origin sends bodies at ~400 kB/s, so the 1.5 MB zip streams for seconds.
start_origin --rate 400000
start_modgate --cache-dir "$WORK/cache-slow"
P=/golang.org/x/sys/@v/v0.2.0.zip
f="$(fixture_file "$P")"
size="$(stat -c %s "$f")"
first=$((size - 100000))
curl -s -o "$WORK/full.zip" -D "$WORK/full.h" --max-time 120 "$PROXY_URL$P" &
full_pid=$!
# The range request goes out once the origin has begun the (slow) answer.
zip_started() { (($(path_lines "$P" "$ORIGIN_LOG.start") > 0)); }
wait_until 30 zip_started || fail "in flight: the origin was asked for $P" "nothing in $ORIGIN_LOG.start"
get h1 "$P" -H "Range: bytes=$first-"
wait "$full_pid"
if [[ "$CODE" == 206 && "$(hdr X-Cache)" == MISS && "$(hdr Content-Range)" == "bytes $first-$((size - 1))/$size" ]] &&
  cmp -s "$WORK/b" <(slice "$f" "$first" $((size - first))); then
  pass "in flight: Range bytes=$first- on a zip being fetched: 206 MISS, served as the bytes arrived"
else fail "in flight: Range on a zip being fetched: 206" "$CODE $(hdr X-Cache) Content-Range [$(hdr Content-Range)], $(stat -c %s "$WORK/b") bytes"; fi
if cmp -s "$WORK/full.zip" "$f"; then pass "in flight: the full GET alongside got the whole zip"
else fail "in flight: the full GET alongside got the whole zip" "$(stat -c %s "$WORK/full.zip") bytes"; fi
assert_eq "in flight: one upstream fetch for both" 1 "$(origin_requests "$P")"
P=/golang.org/x/sys/@v/v0.3.0.zip
size="$(stat -c %s "$(fixture_file "$P")")"
get h2c "$P" -H "Range: bytes=$((size + 5))-"
if [[ "$CODE" == 416 && "$(hdr Content-Range)" == "bytes */$size" ]]; then
  pass "in flight: Range past the end of a zip being fetched: 416 (the upstream announced $size bytes)"
else fail "in flight: Range past the end of a zip being fetched: 416" "$CODE, Content-Range [$(hdr Content-Range)]"; fi
stop_modgate
stop_origin

# ---- @v/list: validators, and conditional revalidation upstream --------------------------
start_origin
cat >"$WORK/list.yaml" <<YAML
cache:
  list_ttl: 5s
  stale_while_revalidate: 0s
clusters:
  - name: origin
    endpoints:
      - url: $ORIGIN_URL
YAML
start_modgate -c "$WORK/list.yaml" --cache-dir "$WORK/cache-list"
LIST_P=/github.com/fsnotify/fsnotify/@v/list
f="$(fixture_file "$LIST_P")"
get h1 "$LIST_P"
is_list_hit() { get h1 "$LIST_P"; [[ "$(hdr X-Cache)" == HIT ]]; }
wait_until 10 is_list_hit
etag="$(hdr ETag)"
get h1 "$LIST_P" -H "If-None-Match: $etag"
if [[ "$CODE" == 304 && -n "$etag" ]]; then pass "list: ETag $etag, If-None-Match: 304"
else fail "list: ETag and If-None-Match: 304" "$CODE, ETag [$etag], X-Cache [$(hdr X-Cache)]"; fi
sleep 6 # past list_ttl
get h1 "$LIST_P"
if [[ "$CODE $(hdr X-Cache)" == "200 REVALIDATED" && "$(hdr ETag)" == "$etag" ]] && cmp -s "$WORK/b" "$f"; then
  pass "list: expired, revalidated with the origin: 200 REVALIDATED, same body and ETag"
else fail "list: expired, revalidated with the origin" "$CODE $(hdr X-Cache), ETag [$(hdr ETag)]"; fi
assert_eq "list: the origin answered the revalidation 304 (no body)" "1 304" \
  "$(awk -v p="$LIST_P" '$2 == p { n++; last = $3 } END { print n - 1, last }' "$ORIGIN_LOG")"
get h1 "$LIST_P"
assert_eq "list: fresh again after the 304 (HIT)" "200 HIT" "$CODE $(hdr X-Cache)"

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
