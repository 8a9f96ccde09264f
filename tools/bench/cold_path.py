#!/usr/bin/env python3
"""Issue 12's cold-path targets, measured behind the WAN relay: an origin
(test/integration/origin.py) that waits --delay-ms before each answer and
sends each body at --rate bytes/s, as a module mirror across a WAN would.

  miss  Target 4, cold miss: --clients clients at once on one uncached
        100 MiB zip, through a fresh modgate and, in the same run, a fresh
        nginx caching proxy (bench.py's config) as the reference. Times
        from the moment the requests go out to each client's first response
        byte and to its last body byte; min/median/max over the clients.
        Target: every first byte <= 0.2 s, every client done <= 1.4 s (the
        fetch alone takes 1.05 s at 100 MB/s).
  go    Target 5, cold go client: `go mod download` of every fixture module
        version (manifest.txt), verified against the fixture's checksum
        database (sumdb.env's key, reached through the proxy as the
        integration tests do), through a fresh modgate (--concurrency 1, the
        default config plus --upstream the relay) against the go command
        asking the relay directly. Fresh GOMODCACHE for every run; the two
        are interleaved per repetition. Target: median ratio
        modgate/direct <= 1.0. Also counts the origin's requests and TCP
        connections (origin.py --log/--conn-log) for each run.

origin.py sends a response's headers and body in two writes with Nagle on,
so each small answer also waits for the receiver's delayed ACK (~40 ms on
Linux), the go command and modgate alike; --nodelay runs
test/integration/nodelay_origin.py instead (Nagle off, as nginx and most
real servers).

Pinning as bench.py: clients (the go command too) and the origin on core 0,
the proxy under test on core 1. Python 3 standard library only.

  cold_path.py --modgate BIN [--reps 3] [--delay-ms 20] [--rate 104857600]
               [--nodelay] [--clients 20] [--only miss|go] [--fixture DIR]
               [--workdir DIR]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree from importing bench.py
import bench  # noqa: E402
import gen_modules  # noqa: E402
from bench import CLIENT_CPU, SERVER_CPU, Modgate, Nginx, free_port, loadavg, start_origin, wait_http  # noqa: E402
from verify_cost import stop, sumdb_env  # noqa: E402

NODELAY_ORIGIN_PY = os.path.join(bench.REPO, "test", "integration", "nodelay_origin.py")
FIRST_BYTE_TARGET_S = 0.2
DONE_TARGET_S = 1.4
GO_RATIO_TARGET = 1.0
MISS_PATH = bench.STORM_PATH
MISS_SIZE = bench.STORM_SIZE


def log(msg):
    sys.stderr.write("[cold_path %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def lines_since(path, offset):
    with open(path) as f:
        f.seek(offset)
        return f.read().splitlines()


# ---------------------------------------------------------------- target 4


def miss_tree(workdir):
    """The origin's tree for the miss: the one 100 MiB zip of bench.py's storm, and the sumdb
    'supported' file by which bench.Nginx knows it is up."""
    data = os.path.join(workdir, "miss-data")
    if os.path.exists(os.path.join(data, ".stamp")):
        return data
    shutil.rmtree(data, ignore_errors=True)
    block = os.urandom(1024 * 1024 + 4093)  # odd length, as gen_modules: no 1 MiB period
    gen_modules.module(data, "storm", MISS_SIZE, block)
    gen_modules.write(os.path.join(data, "sumdb", "sum.bench.example", "supported"), b"")
    gen_modules.write(os.path.join(data, ".stamp"), b"cold_path\n")
    return data


def cold_miss(srv, clients, origin_log):
    """clients GETs of the uncached zip at once: first-byte and done times in seconds."""
    off = os.path.getsize(origin_log)
    socks = bench.connect_many(srv.port, clients)
    req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: modgate-bench-cold\r\n\r\n"
           % (MISS_PATH, srv.port)).encode()
    resps = [bench.Resp() for _ in socks]
    t0 = time.monotonic()
    for s in socks:
        s.send(req)
    bench.drive(socks, resps, t0 + 120)
    for s in socks:
        s.close()
    ok = [r for r in resps if r.status == 200 and r.error is None and r.body == MISS_SIZE]
    errors = sorted(set("status=%s body=%d %s" % (r.status, r.body, r.error or "")
                        for r in resps if r not in ok))
    time.sleep(0.3)
    return {"first": [r.first - t0 for r in resps if r.first is not None],
            "done": [r.done - t0 for r in ok], "ok": len(ok), "errors": errors,
            "origin_requests": sum(1 for l in lines_since(origin_log, off) if MISS_PATH in l)}


def run_miss(opts, rep, origin_url, origin_log):
    base = os.path.join(opts.workdir, "miss%d" % rep)
    shutil.rmtree(base, ignore_errors=True)
    servers = [Modgate(os.path.join(base, "modgate"), origin_url, 1, opts.modgate),
               Nginx(os.path.join(base, "nginx"), origin_url, 1)]
    if rep % 2:
        servers.reverse()
    out = {}
    for srv in servers:
        os.makedirs(srv.dir, exist_ok=True)
        srv.start(fresh=True)
        try:
            time.sleep(0.5)
            r = cold_miss(srv, opts.clients, origin_log)
            r["cmd"] = srv.cmd
        finally:
            srv.stop()
        out[srv.name] = r
        log("miss rep %d %-7s first byte %s  done %s  ok %d/%d  origin GETs %d%s" % (
            rep + 1, srv.name, fmt3(r["first"]), fmt3(r["done"]), r["ok"], opts.clients,
            r["origin_requests"], "  errors: %s" % r["errors"] if r["errors"] else ""))
    return out


# ---------------------------------------------------------------- target 5


def fixture_modules(fixture):
    mods = []
    with open(os.path.join(fixture, "manifest.txt")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                mod, ver = line.split()[:2]
                mods.append("%s@%s" % (mod, ver))
    return mods


def go_download(opts, name, proxy_url, mods, gosumdb_key):
    """`go mod download` of mods in a fresh go environment (as test/integration/lib.sh's
    go_env): wall seconds."""
    home = os.path.join(opts.workdir, "go-" + name)
    if os.path.exists(home):
        subprocess.run(["chmod", "-R", "u+w", home], check=False)
        shutil.rmtree(home)
    for sub in ("gopath", "cache", "home", "tmp", "work"):
        os.makedirs(os.path.join(home, sub))
    env = {k: v for k, v in os.environ.items() if k not in ("GOWORK", "GO111MODULE")}
    env.update(GOPATH=os.path.join(home, "gopath"), GOMODCACHE=os.path.join(home, "gopath", "pkg", "mod"),
               GOCACHE=os.path.join(home, "cache"), HOME=os.path.join(home, "home"),
               GOTMPDIR=os.path.join(home, "tmp"), GOPROXY=proxy_url, GOSUMDB=gosumdb_key,
               GOFLAGS="-mod=mod", GOENV="off", GONOSUMDB="", GOPRIVATE="", GONOPROXY="",
               GOINSECURE="", CGO_ENABLED="0", GOTOOLCHAIN="local")
    t0 = time.monotonic()
    r = subprocess.run(["taskset", "-c", CLIENT_CPU, "go", "mod", "download"] + mods,
                       cwd=os.path.join(home, "work"), env=env, capture_output=True, text=True)
    took = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError("go mod download via %s failed (rc %d):\n%s" % (name, r.returncode, r.stderr[-2000:]))
    return took


def start_modgate(opts, rep, origin_url):
    """A cold sidecar: fresh cache, one worker, the default config plus the origin cluster."""
    d = os.path.join(opts.workdir, "go-modgate%d" % rep)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    port, admin = free_port(), free_port()
    cmd = ["taskset", "-c", SERVER_CPU, opts.modgate, "--listen", "127.0.0.1:%d" % port,
           "--admin", "127.0.0.1:%d" % admin, "--upstream", origin_url,
           "--cache-dir", os.path.join(d, "cache"), "--concurrency", "1", "--no-watch"]
    proc = subprocess.Popen(cmd, stdout=open(os.path.join(d, "modgate.log"), "w"), stderr=subprocess.STDOUT)
    wait_http("http://127.0.0.1:%d/ready" % admin)
    return proc, "http://127.0.0.1:%d" % port, " ".join(cmd)


def run_go(opts, rep, origin_url, origin_log, conn_log, mods, gosumdb_key):
    order = ["modgate", "direct"] if rep % 2 == 0 else ["direct", "modgate"]
    out = {}
    for name in order:
        proc = None
        if name == "modgate":
            proc, url, out["cmd"] = start_modgate(opts, rep, origin_url)
        else:
            url = origin_url
        req_off, conn_off = os.path.getsize(origin_log), os.path.getsize(conn_log)
        try:
            took = go_download(opts, name, url, mods, gosumdb_key)
        finally:
            if proc is not None:
                stop(proc)
        time.sleep(0.2)
        reqs = lines_since(origin_log, req_off)
        out[name] = {"s": took, "origin_requests": len(reqs),
                     "origin_mod_requests": sum(1 for l in reqs if ".mod " in l),
                     "origin_conns": sum(1 for l in lines_since(conn_log, conn_off) if l.startswith("open"))}
        log("go rep %d %-7s %.2f s  origin: %d requests (%d .mod) on %d connections" % (
            rep + 1, name, took, len(reqs), out[name]["origin_mod_requests"], out[name]["origin_conns"]))
    out["ratio"] = out["modgate"]["s"] / out["direct"]["s"]
    return out


# ---------------------------------------------------------------- report


def fmt3(xs):
    """min/median/max in seconds."""
    if not xs:
        return "-"
    return "%.3f/%.3f/%.3f" % (min(xs), statistics.median(xs), max(xs))


def verdict(ok):
    return "met" if ok else "MISSED"


def report(opts, miss, go, load_start, load_end, nmods):
    print()
    print("cold path (issue 12): --delay-ms %d --rate %d%s, %d repetition(s)" % (
        opts.delay_ms, opts.rate, " --nodelay" if opts.nodelay else "", opts.reps))
    if miss:
        print()
        print("Target 4, cold miss: %d clients on one uncached %d MiB zip (seconds, min/median/max over clients)"
              % (opts.clients, MISS_SIZE >> 20))
        print("| rep | server | first byte | done | ok | origin GETs |")
        print("| --- | --- | --- | --- | --- | --- |")
        for i, rep in enumerate(miss):
            for name in ("modgate", "nginx"):
                r = rep[name]
                print("| %d | %s | %s | %s | %d/%d | %d |" % (i + 1, name, fmt3(r["first"]), fmt3(r["done"]),
                                                          r["ok"], opts.clients, r["origin_requests"]))
        for name in ("modgate", "nginx"):
            worst_first = max(max(r[name]["first"] or [99]) for r in miss)
            worst_done = max(max(r[name]["done"] or [99]) if r[name]["ok"] == opts.clients else 99 for r in miss)
            print("%s: worst first byte %.3f s (target <= %.1f: %s), worst done %.3f s (target <= %.1f: %s)" % (
                name, worst_first, FIRST_BYTE_TARGET_S, verdict(worst_first <= FIRST_BYTE_TARGET_S),
                worst_done, DONE_TARGET_S, verdict(worst_done <= DONE_TARGET_S)))
    if go:
        print()
        print("Target 5, cold go client: go mod download of %d fixture module versions (seconds)" % nmods)
        print("| rep | modgate | direct | ratio | origin requests modgate/direct | .mod requests | origin connections |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for i, r in enumerate(go):
            m, d = r["modgate"], r["direct"]
            print("| %d | %.2f | %.2f | %.3f | %d/%d | %d/%d | %d/%d |" % (
                i + 1, m["s"], d["s"], r["ratio"], m["origin_requests"], d["origin_requests"],
                m["origin_mod_requests"], d["origin_mod_requests"], m["origin_conns"], d["origin_conns"]))
        ratio = statistics.median(r["ratio"] for r in go)
        print("median: modgate %.2f s, direct %.2f s, ratio %.3f (target <= %.1f: %s)" % (
            statistics.median(r["modgate"]["s"] for r in go), statistics.median(r["direct"]["s"] for r in go),
            ratio, GO_RATIO_TARGET, verdict(ratio <= GO_RATIO_TARGET)))
    print()
    print("load average at start: %s, at end: %s" % (load_start, load_end))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--modgate", required=True, metavar="BINARY", help="the modgate binary under test")
    p.add_argument("--reps", type=int, default=3, help="repetitions of each target (default 3)")
    p.add_argument("--delay-ms", type=int, default=20, help="the relay's delay before each answer (default 20)")
    p.add_argument("--rate", type=int, default=100 * 1024 * 1024,
                   help="the relay's bytes/s per response (default 104857600)")
    p.add_argument("--nodelay", action="store_true",
                   help="the relay with Nagle off (nodelay_origin.py); default: origin.py as is")
    p.add_argument("--clients", type=int, default=20, help="clients on the cold zip (default 20)")
    p.add_argument("--only", choices=("miss", "go"), help="one target only")
    p.add_argument("--fixture", default=os.environ.get(
        "MODGATE_FIXTURE_ORIGIN", os.path.expanduser("~/.cache/modgate-ci/fixture-origin")),
        help="the fixture origin for target 5 (default $MODGATE_FIXTURE_ORIGIN)")
    p.add_argument("--workdir", help="scratch directory (default: a new one under /tmp, removed at the end)")
    opts = p.parse_args()
    opts.modgate = os.path.abspath(opts.modgate)
    keep = opts.workdir is not None
    opts.workdir = opts.workdir or tempfile.mkdtemp(prefix="modgate-cold-path-")
    os.makedirs(opts.workdir, exist_ok=True)
    relay = ["--delay-ms", str(opts.delay_ms), "--rate", str(opts.rate)]
    script = NODELAY_ORIGIN_PY if opts.nodelay else bench.ORIGIN_PY
    load_start = loadavg()
    log("load average at start: %s" % load_start)
    miss, go, mods = [], [], []
    try:
        if opts.only in (None, "miss"):
            origin_log = os.path.join(opts.workdir, "miss-origin.log")
            open(origin_log, "w").close()
            origin, origin_url = start_origin(opts.workdir, miss_tree(opts.workdir), relay + ["--log", origin_log],
                                              script)
            try:
                for rep in range(opts.reps):
                    miss.append(run_miss(opts, rep, origin_url, origin_log))
            finally:
                stop(origin)
        if opts.only in (None, "go"):
            mods = fixture_modules(opts.fixture)
            _, gosumdb_key = sumdb_env(opts.fixture)
            origin_log = os.path.join(opts.workdir, "go-origin.log")
            conn_log = os.path.join(opts.workdir, "go-origin-conns.log")
            open(origin_log, "w").close()
            open(conn_log, "w").close()
            origin, origin_url = start_origin(opts.workdir, opts.fixture,
                                              relay + ["--log", origin_log, "--conn-log", conn_log], script)
            try:
                for rep in range(opts.reps):
                    go.append(run_go(opts, rep, origin_url, origin_log, conn_log, mods, gosumdb_key))
            finally:
                stop(origin)
    finally:
        if not keep:
            # The go command leaves its module cache read-only.
            subprocess.run(["chmod", "-R", "u+w", opts.workdir], check=False)
            shutil.rmtree(opts.workdir, ignore_errors=True)
    report(opts, miss, go, load_start, loadavg(), len(mods))


if __name__ == "__main__":
    main()
