#!/usr/bin/env python3
"""A small keep-alive HTTP/1.1 load client for the cluster tests.

Reads request paths (one per line, e.g. /example.com/w1/@v/list) and GETs
each once from --base with --concurrency threads, each holding one
keep-alive connection (re-opened after an error). Prints a JSON summary on
stdout:

  {"requests": N, "status": {"404": N, ...}, "errors": N, "max_ms": F,
   "elapsed_s": F}

and, with --out FILE, one line per request: "PATH STATUS MS FIRST-BODY-LINE"
(status 0 when no response arrived). A path line may carry request headers
after it, separated by spaces: "/m/@v/list x-build-id:42". Python 3
standard library only.
"""

import argparse
import http.client
import json
import queue
import sys
import threading
import time
import urllib.parse


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True, help="http://host:port")
    p.add_argument("--paths", required=True, help="file with one request path per line")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--out", help="per-request result lines")
    opts = p.parse_args()

    base = urllib.parse.urlsplit(opts.base)
    with open(opts.paths) as f:
        paths = [line.strip() for line in f if line.strip()]
    work = queue.Queue()
    for path in paths:
        work.put(path)

    lock = threading.Lock()
    results = []

    def worker():
        conn = None
        while True:
            try:
                path = work.get_nowait()
            except queue.Empty:
                break
            start = time.monotonic()
            status, first = 0, ""
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=opts.timeout)
                target, *extra = path.split(" ")
                headers = dict(h.split(":", 1) for h in extra)
                conn.request("GET", target, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                status = resp.status
                first = body[:200].decode("utf-8", "replace").split("\n", 1)[0].strip()
                if resp.will_close:
                    conn.close()
                    conn = None
            except Exception as e:  # noqa: BLE001 - any failure is a result
                first = "client error: %s: %s" % (type(e).__name__, e)
                if conn is not None:
                    conn.close()
                conn = None
            ms = (time.monotonic() - start) * 1000.0
            with lock:
                results.append((path, status, ms, first))
        if conn is not None:
            conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(max(1, opts.concurrency))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0

    summary = {"requests": len(results), "status": {}, "errors": 0, "max_ms": 0.0,
               "elapsed_s": round(elapsed, 3)}
    for _, status, ms, _ in results:
        summary["status"][str(status)] = summary["status"].get(str(status), 0) + 1
        if status == 0:
            summary["errors"] += 1
        summary["max_ms"] = max(summary["max_ms"], round(ms, 1))
    if opts.out:
        with open(opts.out, "w") as f:
            for path, status, ms, first in results:
                f.write("%s %d %.1f %s\n" % (path, status, ms, first))
    json.dump(summary, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
