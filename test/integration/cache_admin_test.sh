#!/usr/bin/env bash
# The operations admin endpoints: GET /cache (entries and bytes by kind, hit
# ratio, oldest entry, disk free), POST /cache/purge?module=M[&version=V]
# (the next request is a miss again; list and @latest go too; bad
# parameters are 400 naming them; GET is 405), GET /cache/modules?top=N
# (by hits or bytes) and the per-kind cache metrics, GET /server_info, 404 for an
# unknown path, and `modgate --version`; every JSON body parses.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
integ_init

start_origin
start_modgate --cache-dir "$WORK/cache"

M=github.com/google/uuid
INFO=/$M/@v/v1.3.0.info
MOD=/$M/@v/v1.3.0.mod
LIST=/$M/@v/list
# The .mod before the .info: a .info miss fetches its .mod too, which would
# make the client's .mod a hit.
for p in "$MOD" "$INFO" "$LIST" "$INFO"; do http_get "$PROXY_URL$p" >/dev/null; sleep 0.3; done
x="$(http_get "$PROXY_URL$INFO" >/dev/null; header X-Cache)"
assert_eq "the .info is cached (HIT)" HIT "$x"

# ---- GET /cache -------------------------------------------------------------------
code="$(admin_get /cache)"
got="$(python3 - "$WORK/admin.body" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
kinds = {k["kind"]: k for k in d["kinds"]}
bad = []
if d["entries"] < 3: bad.append("entries=%r" % d["entries"])
if d["bytes"] <= 0: bad.append("bytes=%r" % d["bytes"])
if d["disk_free_bytes"] <= 0: bad.append("disk_free_bytes=%r" % d["disk_free_bytes"])
if not d.get("oldest_entry_key") or not d.get("oldest_entry_stored_at", "").endswith("Z"):
    bad.append("oldest entry %r %r" % (d.get("oldest_entry_key"), d.get("oldest_entry_stored_at")))
for k in ("info", "mod", "list"):
    if kinds.get(k, {}).get("entries", 0) < 1: bad.append("no %s entry" % k)
info = kinds["info"]
# 3 info requests: 1 miss, 2 hits.
if abs(info["hit_ratio"] - 2 / 3) > 1e-6 or info["requests"] != 3: bad.append("info %r" % info)
if not (0 < d["hit_ratio"] < 1): bad.append("hit_ratio=%r" % d["hit_ratio"])
if set(kinds) != {"list", "info", "mod", "zip", "latest", "sumdb"}: bad.append("kinds %r" % sorted(kinds))
print("; ".join(bad) or "ok")
EOF
)"
assert_eq "GET /cache is 200 JSON with entries, bytes, by-kind hit ratios, oldest entry, disk free" "200 ok" "$code $got"

# ---- GET /cache/modules ---------------------------------------------------------------
# uuid: 2 hits (the second and third .info), 3 entries, 1 version; toml: one
# 222 KB zip, no hit, the most bytes.
http_get "$PROXY_URL/github.com/!burnt!sushi/toml/@v/v1.2.0.zip" >/dev/null
wait_cached 4 || fail "the toml zip is committed" "not in the cache"
top_modules() { # QUERY: "<modules> <by>: <module> <hits> <bytes>0? <entries> <versions>; ..."
  python3 - "$WORK/admin.body" <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
print("%d %s: %s" % (d["modules"], d["by"], "; ".join(
    "%s %d %s %d %d" % (m["module"], m["hits"], "big" if m["bytes"] > 200000 else "small",
                        m["entries"], m["versions"]) for m in d["top"])))
EOF2
}
code="$(admin_get "/cache/modules?top=1")"
assert_eq "GET /cache/modules?top=1: the module with the most hits, with its hits, bytes, entries and versions" \
  "200 2 hits: github.com/google/uuid 2 small 3 1" "$code $(top_modules)"
code="$(admin_get "/cache/modules?by=bytes")"
assert_eq "?by=bytes: the largest module first, its path unescaped" \
  "200 2 bytes: github.com/BurntSushi/toml 0 big 1 1; github.com/google/uuid 2 small 3 1" "$code $(top_modules)"
for q in "top=0" "top=1001" "top=ten" "by=size"; do
  code="$(admin_get "/cache/modules?$q")"
  assert_match "/cache/modules?$q is 400 naming the parameter" "^400 ${q%%=*}: " "$code $(cat "$WORK/admin.body")"
done
assert_eq "POST /cache/modules is 405" 405 "$(admin_get /cache/modules -X POST)"

# ---- per-kind cache metrics -------------------------------------------------------------
prom() { prom_value "$@"; }
assert_eq "modgate_cache_kind_lookups_total: info 2 hits 1 miss, zip 1 miss" "2 1 1" \
  "$(prom modgate_cache_kind_lookups_total kind=info result=hit) $(prom modgate_cache_kind_lookups_total kind=info result=miss) $(prom modgate_cache_kind_lookups_total kind=zip result=miss)"
zip_bytes="$(prom modgate_cache_kind_bytes kind=zip)"
assert_eq "modgate_cache_kind_{entries,bytes}: one zip entry of more than 222286 bytes" "1 yes" \
  "$(prom modgate_cache_kind_entries kind=zip) $( ((zip_bytes > 222286)) && echo yes || echo "no ($zip_bytes)")"
assert_eq "modgate_cache_kind_evictions_total is exported per kind (none evicted)" "0 6" \
  "$(prom modgate_cache_kind_evictions_total) $(curl -s "$ADMIN_URL/stats/prometheus" | grep -c '^modgate_cache_kind_evictions_total{')"

# ---- POST /cache/purge ----------------------------------------------------------------
assert_eq "GET /cache/purge is 405" 405 "$(admin_get "/cache/purge?module=$M")"
assert_eq "POST /cache/purge without module is 400" 400 "$(admin_get /cache/purge -X POST)"
code="$(admin_get "/cache/purge?module=Not%20A%20Module" -X POST)"
assert_match "a bad module path is 400 naming the parameter" "^400 module: " "$code $(cat "$WORK/admin.body")"
code="$(admin_get "/cache/purge?module=$M&version=banana" -X POST)"
assert_match "a bad version is 400 naming the parameter" "^400 version: " "$code $(cat "$WORK/admin.body")"

code="$(admin_get "/cache/purge?module=$M&version=v1.3.0" -X POST)"
removed="$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["removed"], " ".join(sorted(k.rsplit("/",1)[1] for k in d["keys"])))' "$WORK/admin.body")"
assert_eq "purging v1.3.0 removes its .info and .mod and the module's list" "200 3 list v1.3.0.info v1.3.0.mod" "$code $removed"
n0="$(origin_count "^$INFO\$")"
x="$(http_get "$PROXY_URL$INFO" >/dev/null; header X-Cache)"
n1="$(origin_count "^$INFO\$")"
assert_eq "after the purge the .info is a MISS fetched from the origin again" "MISS 1" "$x $((n1 - n0))"
# That miss fetched the .info's .mod too; wait for both to be committed.
wait_until 30 cached_no_fetch "$INFO" || log "$INFO not cached after 30 s"
wait_until 30 cached_no_fetch "$MOD" || log "$MOD not cached after 30 s"
code="$(admin_get "/cache/purge?module=$M" -X POST)"
removed="$(json_field "$(cat "$WORK/admin.body")" removed)"
assert_eq "purging the whole module removes the refetched .info and the .mod its miss fetched" "200 2" "$code $removed"
code="$(admin_get "/cache/purge?module=example.com/none" -X POST)"
assert_eq "purging a module with nothing cached removes nothing" "200 0" "$code $(json_field "$(cat "$WORK/admin.body")" removed)"

# ---- GET /server_info and --version ---------------------------------------------------
code="$(admin_get /server_info)"
got="$(python3 - "$WORK/admin.body" "$MODGATE_PID" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
bad = [k for k in ("version", "build", "started_at", "config_version", "state") if not d.get(k)]
if d.get("workers", 0) < 1: bad.append("workers=%r" % d.get("workers"))
if not d.get("uptime_seconds", 0) > 0: bad.append("uptime_seconds=%r" % d.get("uptime_seconds"))
if str(d.get("pid")) != sys.argv[2]: bad.append("pid=%r" % d.get("pid"))
if d.get("state") != "LIVE": bad.append("state=%r" % d.get("state"))
print("; ".join(bad) or "ok %s" % d["version"])
EOF
)"
assert_match "GET /server_info: version, build, uptime, config version, workers, state, pid" "^200 ok " "$code $got"
version="$("$MODGATE" --version)"
assert_eq "modgate --version names the same version" "modgate ${got#ok }" "${version%% (*}"
assert_eq "POST /server_info is 405" 405 "$(admin_get /server_info -X POST)"
assert_eq "an unknown admin path is 404" 404 "$(admin_get /cache/nothing)"

finish
