#!/bin/sh
# Fails if the binary would load OpenSSL 3 next to BoringSSL.
set -eu
binary="$1"
deps="$(ldd "$binary")"
echo "$deps"
if echo "$deps" | grep -E 'lib(ssl|crypto)\.so\.3' >/dev/null; then
  echo "FAIL: $binary links OpenSSL 3" >&2
  exit 1
fi
echo "$deps" | grep -q 'android/libssl.so.0' || { echo "FAIL: BoringSSL not linked" >&2; exit 1; }
echo "PASS"
