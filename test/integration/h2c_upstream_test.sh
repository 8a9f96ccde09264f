#!/usr/bin/env bash
# An h2c upstream: nginx serves the fixture on a cleartext port that speaks
# only HTTP/2 with prior knowledge (`listen ... http2;` without ssl).
#   1. Cluster.http2: true -> the go command downloads through modgate and
#      gets the fixture's sums; nginx logged every request as HTTP/2.0, over
#      few connections (streams multiplexed: 40 concurrent requests);
#      health probes went over h2c too, with health_check.host as their
#      :authority;
#   2. without http2 the same origin fails (502): it speaks no HTTP/1.1, so
#      case 1 really used h2c.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
integ_init
command -v go >/dev/null || die "the go command is missing (apt-get install golang-go)"
source "$INTEG_DIR/nginx_lib.sh"

# start_nginx_h2c TREE: the fixture tree TREE on a port that speaks only h2c.
start_nginx_h2c() {
  start_nginx h2c "    listen 127.0.0.1:@PORT@ http2;
    root $1;" "http://127.0.0.1:@PORT@/manifest.txt" --http2-prior-knowledge
}

tree="$WORK/tree"
copy_fixture "$tree" || die "cannot copy the fixture"
echo ok >"$tree/healthz"
for ((i = 1; i <= 40; i++)); do
  mkdir -p "$tree/example.com/h2/m$i/@v"
  printf 'v1.0.0\n' >"$tree/example.com/h2/m$i/@v/list"
done
start_nginx_h2c "$tree"
UP="http://127.0.0.1:$NGINX_PORT"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --http1.1 "$UP/manifest.txt")"
log "nginx's h2c port asked in HTTP/1.1: $code"

# write_config FILE HTTP2
write_config() {
  cat >"$1" <<EOF
clusters:
  - name: h2c
    http2: $2
    endpoints:
      - url: $UP
    health_check:
      path: /healthz
      host: modules.h2c.test
      interval: 200ms
      timeout: 200ms
      unhealthy_threshold: 2
      healthy_threshold: 1
routes:
  - name: all
    cluster: h2c
sumdbs:
  - name: $GOSUMDB_NAME
EOF
}

# ---- 1. http2: true ----------------------------------------------------------------------
write_config "$WORK/h2c.yaml" true
start_modgate -c "$WORK/h2c.yaml" --cache-dir "$WORK/cache-h2c"
if wait_until 60 flags_are h2c "127.0.0.1:$NGINX_PORT" '^healthy$'; then pass "http2: the h2c endpoint passes its health probes"
else fail "http2: the h2c endpoint passes its health probes" "health_flags: $(host_field h2c "127.0.0.1:$NGINX_PORT" health_flags)"; fi
n="$(awk '$5 == "/healthz" && $2 == "HTTP/2.0" && $3 == 200 && $4 == "modules.h2c.test"' "$NGINX_ACCESS_LOG" | wc -l)"
if ((n >= 1)); then pass "http2: health probes went over h2c with health_check.host as :authority ($n probes)"
else fail "http2: health probes went over h2c with health_check.host" "$(grep healthz "$NGINX_ACCESS_LOG" | tail -3 | tr '\n' ';')"; fi

MODS=(github.com/pkg/errors@v0.9.1 golang.org/x/sys@v0.3.0 github.com/google/uuid@v1.3.0)
go_env h2c
cd "$GO_HOME/work" || die "no work dir"
go_download_sums "http2: go mod download of ${#MODS[@]} modules through the h2c upstream, sums match the fixture" "${MODS[@]}"

for ((i = 1; i <= 40; i++)); do echo "/example.com/h2/m$i/@v/list"; done >"$WORK/h2.paths"
before="$(wc -l <"$NGINX_ACCESS_LOG")"
run_paths "$WORK/h2.paths" 40
assert_eq "http2: 40 concurrent uncached requests all 200" 40 "$(run_status_count 200)"
conns="$(tail -n "+$((before + 1))" "$NGINX_ACCESS_LOG" | awk '$5 ~ /^\/example.com\/h2\// { print $1 }' | sort -u | wc -l)"
if ((conns >= 1 && conns <= 4)); then pass "http2: the 40 concurrent requests shared $conns h2c connection(s)"
else fail "http2: the 40 concurrent requests share a few h2c connections" "$conns connections"; fi
not_h2="$(grep -v '/healthz' "$NGINX_ACCESS_LOG" | awk '$2 != "HTTP/2.0"' | head -3 | tr '\n' ';')"
if [[ -z "$not_h2" ]]; then pass "http2: nginx logged every request as HTTP/2.0 ($(grep -vc '/healthz' "$NGINX_ACCESS_LOG") requests)"
else fail "http2: nginx logged every request as HTTP/2.0" "$not_h2"; fi
stop_modgate

# ---- 2. http2: false: this origin speaks no HTTP/1.1 ------------------------------------------
write_config "$WORK/h1.yaml" false
sed -i '/health_check:/,/healthy_threshold: 1/d' "$WORK/h1.yaml"
start_modgate -c "$WORK/h1.yaml" --cache-dir "$WORK/cache-h1"
code="$(http_get "$PROXY_URL/github.com/pkg/errors/@v/v0.8.1.info")"
if [[ "$code" == 502 || "$code" == 504 ]]; then pass "http1: the same h2c-only origin fails over HTTP/1.1 ($code: $(head -c 150 "$WORK/last.body"))"
else fail "http1: the h2c-only origin fails over HTTP/1.1" "status $code"; fi

modgate_alive && pass "modgate still running" || fail "modgate still running" "it exited"
finish
