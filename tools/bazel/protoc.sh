#!/bin/sh
# Debian's protoc, wrapped so Bazel can use it as @com_google_protobuf//:protoc.
exec /usr/bin/protoc "$@"
