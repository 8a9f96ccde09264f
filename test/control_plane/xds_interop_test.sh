#!/bin/bash
# Python grpcio against `modgate control-plane` (see xds_interop_test.py).
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
real="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
repo="$(cd "$real/../.." && pwd)"
bin="${MODGATE_BIN:-$here/../../source/exe/modgate}"
[[ -x "$bin" ]] || bin="$repo/bazel-bin/source/exe/modgate"
# Debian's python3 has grpcio and protobuf; a pyenv shim on PATH may not.
exec timeout -k 5 300 /usr/bin/python3 "$here/xds_interop_test.py" "$bin" "$repo"
