#!/usr/bin/env bash
# A HIT of a small cached answer sends fields built once per cache entry
# (goproxy's ResponseHeadCache, issue 12): over h2c (curl, prior knowledge)
# and HTTP/1.1 the HIT's fields are the entry's (ETag, Content-Length,
# Last-Modified equal on both protocols and to the body), the reuse is
# counted in /stats/prometheus, and when the origin's @v/list changes and
# modgate fetches it again, the next HITs carry the new ETag and
# Content-Length with the new body: never the replaced entry's fields.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
integ_init
curl --version | grep -qw HTTP2 || die "curl lacks HTTP/2 (Debian's curl has it)"

ROOT="$WORK/origin-root"
copy_fixture "$ROOT" || die "cannot copy the fixture"
start_origin --root "$ROOT"
cat >"$WORK/modgate.yaml" <<YAML
cache:
  list_ttl: 2s
  stale_while_revalidate: 0s
clusters:
  - name: origin
    endpoints:
      - url: $ORIGIN_URL
YAML
# One worker (the sidecar profile): each worker keeps its own fields, so the
# reuse counted below is exact.
start_modgate -c "$WORK/modgate.yaml" --cache-dir "$WORK/cache" --concurrency 1

# get PROTO PATH: CODE, body in $WORK/b, headers in $WORK/last.headers.
get() {
  local flag=--http1.1
  [[ "$1" == h2c ]] && flag=--http2-prior-knowledge
  CODE="$(http_get "$PROXY_URL$2" "$WORK/b" "$flag")"
}
# fields: the answer's own fields, as "name: value" lines, in a fixed order.
fields() { for n in X-Cache Content-Type Content-Length ETag Last-Modified Cache-Control; do
  echo "$n: $(header "$n")"; done; }

# ---- a .info: the HIT's fields, on both protocols, from one entry ------------------
INFO=/github.com/fsnotify/fsnotify/@v/v1.5.1.info
[[ -f "$ROOT$INFO" ]] || die "fixture lacks $INFO"
get h1 "$INFO"
assert_eq "first GET of the .info: 200 MISS" "200 MISS" "$CODE $(header X-Cache)"
hits0="$(prom_value modgate_response_head_cache_lookups_total result=hit)"
get h2c "$INFO"; h2_first="$(fields)"
get h2c "$INFO"; h2_again="$(fields)"
get h1 "$INFO"; h1_hit="$(fields)"
if [[ "$CODE" == 200 && "$(header X-Cache)" == HIT && "$h2_first" == "$h2_again" &&
  "$h2_first" == "$h1_hit" && "$(header Content-Length)" == "$(stat -c %s "$ROOT$INFO")" ]] &&
  cmp -s "$WORK/b" "$ROOT$INFO"; then
  pass "HITs over h2c and HTTP/1.1 carry the same fields, and the body's length"
else
  fail "HITs over h2c and HTTP/1.1 carry the same fields" "h2c [$h2_first] again [$h2_again] h1 [$h1_hit]"
fi
hits1="$(prom_value modgate_response_head_cache_lookups_total result=hit)"
# Three HITs: the first builds the fields, the other two reuse them.
assert_eq "the precomputed fields were reused by the second and third HIT" 2 "$((hits1 - hits0))"
assert_match "their bytes are counted" '^[1-9][0-9]*$' \
  "$(prom_value modgate_response_head_cache_bytes)"

# ---- an @v/list that changes upstream: the new entry's fields, never the old -------
LIST=/github.com/fsnotify/fsnotify/@v/list
[[ -f "$ROOT$LIST" ]] || die "fixture lacks $LIST"
is_list_hit() { get h2c "$LIST"; [[ "$CODE" == 200 && "$(header X-Cache)" == HIT ]]; }
wait_until 30 is_list_hit || die "the list never became a HIT"
old_etag="$(header ETag)" old_length="$(header Content-Length)"
# A new version upstream (copy_fixture may hard-link: write a new file).
rm -f "$ROOT$LIST" && { cat "$FIXTURE$LIST"; printf 'v9.9.9\n'; } >"$ROOT$LIST"
is_new_list() { get h2c "$LIST"; [[ "$CODE" == 200 ]] && cmp -s "$WORK/b" "$ROOT$LIST"; }
wait_until 60 is_new_list || die "modgate never served the new list"
wait_until 30 is_list_hit || die "the new list never became a HIT"
new_etag="$(header ETag)" new_length="$(header Content-Length)"
if cmp -s "$WORK/b" "$ROOT$LIST" && [[ "$new_etag" != "$old_etag" &&
  "$new_length" == "$(stat -c %s "$ROOT$LIST")" && "$new_length" != "$old_length" ]]; then
  pass "after the list changed, a HIT over h2c has the new body, ETag $new_etag and Content-Length $new_length"
else
  fail "after the list changed, a HIT has the new fields" \
    "ETag $old_etag -> $new_etag, Content-Length $old_length -> $new_length (file $(stat -c %s "$ROOT$LIST"))"
fi
get h1 "$LIST"
assert_eq "the same HIT over HTTP/1.1" "200 HIT $new_etag $new_length" \
  "$CODE $(header X-Cache) $(header ETag) $(header Content-Length)"

finish
