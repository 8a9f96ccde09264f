# shellcheck shell=bash
# nginx as a real upstream for the tests that need what origin.py does not
# speak (TLS, h2c). Sourced after lib.sh:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/nginx_lib.sh"
#   start_nginx "TLS" "$server_lines" https://localhost:@PORT@/manifest.txt --cacert ca.pem
#
# start_nginx LABEL SERVER_LINES PROBE_URL [CURL_ARGS...]: runs nginx with one
# server block whose lines are SERVER_LINES, on a free 127.0.0.1 port
# (@PORT@ in SERVER_LINES and PROBE_URL stands for it), and waits until curl
# [CURL_ARGS] PROBE_URL succeeds. Sets NGINX_PORT NGINX_PID NGINX_ACCESS_LOG;
# the access log lines read "$connection $server_protocol $status $host
# $request_uri" then the request line in quotes.

NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[[ -x "$NGINX" ]] || die "nginx is missing (apt-get install nginx-light)"

start_nginx() {
  local label="$1" server_lines="$2" probe="$3" dir="$WORK/nginx" i try user_line=""
  shift 3
  # As root nginx would switch its workers to nobody and chown its temp
  # directories, which Bazel's sandbox (a user namespace) refuses: stay root.
  (($(id -u) == 0)) && user_line="user $(id -un) $(id -gn);"
  mkdir -p "$dir/tmp"
  NGINX_ACCESS_LOG="$dir/access.log"
  for try in 1 2 3; do
    NGINX_PORT="$(free_port)"
    : >"$dir/error.log"
    cat >"$dir/nginx.conf" <<CONF
$user_line
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 512; }
http {
  log_format tests '\$connection \$server_protocol \$status \$host \$request_uri "\$request"';
  access_log $NGINX_ACCESS_LOG tests;
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
${server_lines//@PORT@/$NGINX_PORT}
    location / { try_files \$uri =404; }
  }
}
CONF
    "$NGINX" -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' >"$dir/stdout.log" 2>&1 &
    NGINX_PID=$!
    _LIB_PIDS+=("$NGINX_PID")
    for ((i = 0; i < 100; i++)); do
      kill -0 "$NGINX_PID" 2>/dev/null || break
      if curl -s -o /dev/null --max-time 2 "$@" "${probe//@PORT@/$NGINX_PORT}"; then
        log "nginx ($label) on 127.0.0.1:$NGINX_PORT (pid $NGINX_PID)"
        return 0
      fi
      sleep 0.1
    done
    _kill_pid "$NGINX_PID" 3
    _forget_pid "$NGINX_PID"
    grep -q 'Address already in use' "$dir/error.log" "$dir/stdout.log" && continue
    show_tail "$dir/error.log" 20 "nginx error.log"
    die "nginx did not serve $label on 127.0.0.1:$NGINX_PORT"
  done
  die "nginx could not bind a free port in 3 attempts"
}
