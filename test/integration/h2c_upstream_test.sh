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
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[[ -x "$NGINX" ]] || die "nginx is missing (apt-get install nginx-light)"

# start_nginx_h2c TREE: sets NGINX_PORT NGINX_PID NGINX_ACCESS_LOG.
start_nginx_h2c() {
  local root="$1" dir="$WORK/nginx" i try user_line=""
  # As root nginx would switch its workers to nobody and chown its temp
  # directories, which Bazel's sandbox (a user namespace) refuses: stay root.
  (($(id -u) == 0)) && user_line="user $(id -un) $(id -gn);"
  mkdir -p "$dir/tmp"
  NGINX_ACCESS_LOG="$dir/access.log"
  for try in 1 2 3; do
    NGINX_PORT="$(free_port)"
    : >"$dir/error.log"
    cat >"$dir/nginx.conf" <<EOF
$user_line
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 512; }
http {
  log_format h2c '\$connection \$server_protocol \$status \$host \$request_uri';
  access_log $NGINX_ACCESS_LOG h2c;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  types {
    application/zip zip;
    application/json info;
    text/plain mod;
  }
  default_type text/plain;
  server {
    listen 127.0.0.1:$NGINX_PORT http2;
    root $root;
    location / { try_files \$uri =404; }
  }
}
EOF
    "$NGINX" -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' >"$dir/stdout.log" 2>&1 &
    NGINX_PID=$!
    _LIB_PIDS+=("$NGINX_PID")
    for ((i = 0; i < 100; i++)); do
      kill -0 "$NGINX_PID" 2>/dev/null || break
      if curl -s -o /dev/null --max-time 2 --http2-prior-knowledge "http://127.0.0.1:$NGINX_PORT/manifest.txt"; then
        log "nginx (h2c) on http://127.0.0.1:$NGINX_PORT (pid $NGINX_PID)"
        return 0
      fi
      sleep 0.1
    done
    _kill_pid "$NGINX_PID" 3
    _forget_pid "$NGINX_PID"
    grep -q 'Address already in use' "$dir/error.log" "$dir/stdout.log" && continue
    show_tail "$dir/error.log" 20 "nginx error.log"
    die "nginx did not serve h2c on 127.0.0.1:$NGINX_PORT"
  done
  die "nginx could not bind a free port in 3 attempts"
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
if wait_until 10 flags_are h2c "127.0.0.1:$NGINX_PORT" '^healthy$'; then pass "http2: the h2c endpoint passes its health probes"
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
