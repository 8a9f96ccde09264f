#!/usr/bin/env bash
# Installs what modgate needs on Debian 12, builds it, and runs it.
# With no arguments modgate runs its embedded default config:
#   listen 127.0.0.1:8080, admin 127.0.0.1:9901, upstream https://proxy.golang.org,
#   cache in ${XDG_CACHE_HOME:-~/.cache}/modgate.
# Arguments are passed to modgate (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(bazel-bootstrap g++ pkgconf ca-certificates libevent-dev libnghttp2-dev
  android-libboringssl-dev libprotobuf-dev protobuf-compiler libabsl-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libyaml-cpp-dev libhttp-parser-dev libxxhash-dev libminizip-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "quickstart: installing ${missing[*]}" >&2
  install() { $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null; }
  install || { $sudo apt-get update -q >/dev/null && install; }
fi

bazel build --config=release //source/exe:modgate >&2
exec bazel-bin/source/exe/modgate "$@"
