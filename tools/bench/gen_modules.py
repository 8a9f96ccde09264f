#!/usr/bin/env python3
"""Writes the synthetic GOPROXY tree the benchmark serves from its origin.

  OUT/bench.example.com/mNNNN/@v/{list,v1.0.0.info,v1.0.0.mod,v1.0.0.zip}
  OUT/bench.example.com/mNNNN/@latest           (NNNN = 0000..0999, 64 KiB zips)
  OUT/bench.example.com/big0N/@v/...            (N = 1..4, 10 MiB zips)
  OUT/bench.example.com/storm/@v/...            (one 100 MiB zip)
  OUT/sumdb/sum.bench.example/{supported,latest} (so the /sumdb/ route can be checked)

Zip bodies are random bytes, not real zips: neither proxy looks inside them.
The tree is written once; a stamp file makes later runs reuse it.
"""
import json
import os
import sys

VERSION = "bench-tree-v1"
HOST = "bench.example.com"
SMALL_MODULES = 1000
SMALL_ZIP = 64 * 1024
BIG_MODULES = 4
BIG_ZIP = 10 * 1024 * 1024
STORM_ZIP = 100 * 1024 * 1024
INFO_TIME = "2024-01-02T03:04:05Z"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def module(out, name, zip_size, block=None):
    base = os.path.join(out, HOST, name)
    mod = "%s/%s" % (HOST, name)
    write(os.path.join(base, "@v", "list"), b"v0.9.0\nv1.0.0\n")
    info = json.dumps({"Version": "v1.0.0", "Time": INFO_TIME}).encode() + b"\n"
    write(os.path.join(base, "@v", "v1.0.0.info"), info)
    write(os.path.join(base, "@latest"), info)
    write(os.path.join(base, "@v", "v1.0.0.mod"), ("module %s\n\ngo 1.21\n" % mod).encode())
    zpath = os.path.join(base, "@v", "v1.0.0.zip")
    if block is None:
        write(zpath, os.urandom(zip_size))
    else:
        os.makedirs(os.path.dirname(zpath), exist_ok=True)
        with open(zpath, "wb") as f:
            left = zip_size
            while left > 0:
                n = min(left, len(block))
                f.write(block[:n])
                left -= n


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_modules.py OUT_DIR")
    out = sys.argv[1].rstrip("/")
    stamp = os.path.join(out, ".stamp")
    if os.path.exists(stamp) and open(stamp).read().strip() == VERSION:
        print("gen_modules: reusing %s" % out)
        return
    tmp = out + ".new"
    os.system("rm -rf '%s' '%s'" % (tmp, out))
    for i in range(SMALL_MODULES):
        module(tmp, "m%04d" % i, SMALL_ZIP)
    block = os.urandom(1024 * 1024 + 4093)  # odd length: no 1 MiB period in the data
    for i in range(1, BIG_MODULES + 1):
        module(tmp, "big%02d" % i, BIG_ZIP, block)
    module(tmp, "storm", STORM_ZIP, block)
    write(os.path.join(tmp, "sumdb", "sum.bench.example", "supported"), b"")
    write(os.path.join(tmp, "sumdb", "sum.bench.example", "latest"),
          b"sum.bench.example\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
    with open(os.path.join(tmp, ".stamp"), "w") as f:
        f.write(VERSION + "\n")
    os.rename(tmp, out)
    print("gen_modules: wrote %s" % out)


if __name__ == "__main__":
    main()
