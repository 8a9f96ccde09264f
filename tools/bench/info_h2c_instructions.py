#!/usr/bin/env python3
"""User-space instructions per warm .info request over h2c, under callgrind.

CPU time per request moves by tens of percent on a shared machine; the
instruction count of the same work does not. So a change to the warm h2c
path is weighed here, and timed with bench.py only at the end (see
docs/benchmarks.md, "Warm h2c .info: CPU per request cut").

For each binary: a fresh modgate (one worker) under
`valgrind --tool=callgrind --instr-atstart=no` in front of
test/integration/origin.py serving a gen_modules.py tree; the 1000 .info
URIs are warmed, an untimed h2load pass of 2000 requests takes connection
and first-touch costs out, then instrumentation is switched on for
`h2load -c 8 -m 32 -n N` (as bench.py's info_h2c drives it) and off again.
Prints callgrind's total Ir divided by N. Kernel time is not counted.

  info_h2c_instructions.py --data TREE [--requests 20000] [--workdir DIR] BIN...

Needs valgrind (callgrind_control) and h2load. Python 3 standard library only.
"""

import argparse
import glob
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the origin, modgate and URI list helpers)


def total_instructions(prefix):
    total = 0
    for path in glob.glob(prefix + ".*"):
        with open(path) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    total = max(total, int(line.split()[1]))
    return total


def measure(binary, index, origin_url, workdir, requests):
    name = os.path.basename(binary)
    out = os.path.join(workdir, "callgrind.%s" % name)
    for path in glob.glob(out + ".*"):
        os.unlink(path)
    wrapper = os.path.join(workdir, "valgrind-%s.sh" % name)
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no "
                "--callgrind-out-file=%s.%%p %s \"$@\"\n" % (out, binary))
    os.chmod(wrapper, 0o755)
    mg = bench.Modgate(os.path.join(workdir, "modgate%d" % index), origin_url, 1, wrapper)
    os.makedirs(mg.dir, exist_ok=True)
    mg.start()
    try:
        files = bench.url_lists(mg.dir, mg)
        bench.warm_up(files, mg, kinds=("info",))
        time.sleep(3)
        load = ["h2load", "-t", "1", "-c", "8", "-m", "32", "-i", files[("info", mg.port)]]
        subprocess.run(load + ["-n", "2000"], capture_output=True)
        subprocess.run(["callgrind_control", "-i", "on", str(mg.proc.pid)], capture_output=True)
        report = subprocess.run(load + ["-n", str(requests)], capture_output=True, text=True).stdout
        subprocess.run(["callgrind_control", "-i", "off", str(mg.proc.pid)], capture_output=True)
    finally:
        mg.stop()
    time.sleep(1)
    m = re.search(r"status codes: (\d+) 2xx", report)
    ok = int(m.group(1)) if m else 0
    if ok != requests:
        raise RuntimeError("%s: %d of %d requests answered 2xx:\n%s" % (name, ok, requests, report[-1500:]))
    return total_instructions(out) / requests


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True, help="a gen_modules.py tree")
    p.add_argument("--requests", type=int, default=20000)
    p.add_argument("--workdir", default="/tmp/modgate-info-h2c-instructions")
    p.add_argument("binaries", nargs="+")
    opts = p.parse_args()
    os.makedirs(opts.workdir, exist_ok=True)
    # valgrind starts modgate slowly: give /ready longer than bench.py does.
    bench.wait_http.__defaults__ = (120.0, None)
    origin_log = os.path.join(opts.workdir, "origin.log")
    open(origin_log, "w").close()
    origin, origin_url = bench.start_origin(opts.workdir, opts.data,
                                            ["--log", origin_log, "--delay-ms", "0"])
    try:
        for i, binary in enumerate(opts.binaries):
            per_request = measure(binary, i, origin_url, opts.workdir, opts.requests)
            print("%-40s %8.0f instructions per request" % (binary, per_request), flush=True)
    finally:
        origin.send_signal(signal.SIGTERM)
        origin.wait()


if __name__ == "__main__":
    main()
