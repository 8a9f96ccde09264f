#!/usr/bin/env python3
"""modgate vs nginx: the benchmark from the performance issue.

Started by tools/bench/run.sh, which builds modgate and raises the file
limit; see docs/benchmarks.md for the method and the latest results.

One run: a static origin (test/integration/origin.py, WAN-like: 50 ms per
request and ~100 MB/s per response), then for each repetition a fresh
modgate and a fresh nginx (same upstream, same worker count, empty caches,
both pinned to core 1) and the same client load against each (pinned to
core 0): warm .info over HTTP/1.1 and h2c, warm 64 KiB zips over 1000
modules, warm 10 MiB zips, @v/list with a 1 s TTL, a cold storm of 200
clients for one uncached 100 MiB zip, idle and per-connection RSS.

Python 3 standard library only.
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import platform
import re
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ORIGIN_PY = os.path.join(REPO, "test", "integration", "origin.py")
CLK_TCK = os.sysconf("SC_CLK_TCK")
HOST = "bench.example.com"
CLIENT_CPU = "0"
SERVER_CPU = "1"

SMALL_MODULES = 1000
BIG_MODULES = 4
LIST_MODULES = 100
STORM_PATH = "/%s/storm/@v/v1.0.0.zip" % HOST
STORM_SIZE = 100 * 1024 * 1024
STORM_CLIENTS = 200
IDLE_CONNS = 10000
ORIGIN_DELAY_MS = 50
ORIGIN_RATE = 100 * 1000 * 1000  # bytes/s per response (= per connection: one at a time)
LIST_TTL_S = 1


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def loadavg():
    """The 1, 5 and 15 minute load averages, as one string."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---------------------------------------------------------------- /proc


def proc_stat(pid):
    """(ppid, utime+stime ticks) of one process (all its threads), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def proc_status_kib(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children_of(ppid):
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st and st[0] == ppid:
                out.append(int(name))
    return out


# ---------------------------------------------------------------- servers


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_http(url, timeout=20.0, want=None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                body = r.read()
                if want is None or want in body:
                    return
        except Exception as e:  # noqa: BLE001 - any failure means not ready yet
            last = e
        time.sleep(0.1)
    raise RuntimeError("%s not ready after %.0fs: %s" % (url, timeout, last))


def start_origin(workdir, data, args=(), script=ORIGIN_PY):
    """origin.py (or `script`, a variant with its flags) serving data, pinned with the clients:
    (process, its URL)."""
    port_file = os.path.join(workdir, "origin.port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    proc = subprocess.Popen(
        ["taskset", "-c", CLIENT_CPU, sys.executable, script, "--root", data, "--port", "0",
         "--port-file", port_file] + list(args), stderr=open(os.path.join(workdir, "origin.err"), "w"))
    deadline = time.monotonic() + 10
    while not os.path.exists(port_file) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        return proc, "http://127.0.0.1:%d" % int(open(port_file).read())
    except (OSError, ValueError):
        proc.kill()
        proc.wait()
        raise RuntimeError("origin.py wrote no port in 10 s; see %s/origin.err" % workdir)


class Server:
    """One proxy under test: its processes, ports and logs."""

    name = ""

    def __init__(self, workdir, upstream, workers):
        self.dir = workdir
        self.upstream = upstream
        self.workers = workers
        self.proc = None
        self.incidents = []
        self.hwm_max_kib = 0

    def pids(self):
        raise NotImplementedError

    def cpu_ticks(self):
        snap = {}
        for pid in self.pids():
            st = proc_stat(pid)
            if st:
                snap[pid] = st[1]
        return snap

    def rss_kib(self):
        return sum(proc_status_kib(p, "VmRSS") for p in self.pids())

    def hwm_kib(self):
        return sum(proc_status_kib(p, "VmHWM") for p in self.pids())

    def rss_split_kib(self):
        """(RssAnon, RssFile) summed over the server's processes: private memory and mapped files."""
        pids = self.pids()
        return (sum(proc_status_kib(p, "RssAnon") for p in pids),
                sum(proc_status_kib(p, "RssFile") for p in pids))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=20):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def check(self, where):
        """Records (and survives) a crash: restarts the server on its warm disk cache."""
        if self.alive():
            return True
        rc = self.proc.returncode if self.proc else None
        msg = "%s exited (rc=%s) during %s; log tail:\n%s" % (self.name, rc, where, self.log_tail())
        log(msg)
        self.incidents.append(msg)
        self.start(fresh=False)
        return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.hwm_max_kib = max(self.hwm_max_kib, self.hwm_kib())
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Modgate(Server):
    name = "modgate"

    def __init__(self, workdir, upstream, workers, binary):
        super().__init__(workdir, upstream, workers)
        self.binary = binary
        self.port = free_port()
        self.admin = free_port()
        self.h2c_port = self.port
        self.logfile = os.path.join(workdir, "modgate.log")

    def conf_text(self):
        return ("# written by tools/bench/bench.py\n"
                "cache:\n"
                "  list_ttl: %ds\n"
                "  latest_ttl: %ds\n"
                "limits:\n"
                "  idle_timeout: 300s\n"
                "sumdbs:\n"
                "  - name: sum.bench.example\n" % (LIST_TTL_S, LIST_TTL_S))

    def listen_args(self):
        """The command-line listener; none when conf_text() has listeners."""
        return ["--listen", "127.0.0.1:%d" % self.port]

    def start(self, fresh=True):
        cache = os.path.join(self.dir, "cache")
        if fresh:
            shutil.rmtree(cache, ignore_errors=True)
        os.makedirs(cache, exist_ok=True)
        conf = os.path.join(self.dir, "modgate.yaml")
        with open(conf, "w") as f:
            f.write(self.conf_text())
        cmd = ["taskset", "-c", SERVER_CPU, self.binary, "-c", conf] + self.listen_args() + [
               "--admin", "127.0.0.1:%d" % self.admin, "--upstream", self.upstream, "--cache-dir", cache,
               "--concurrency", str(self.workers), "--log-level", "warn"]
        self.cmd = " ".join(cmd)
        self.proc = subprocess.Popen(cmd, stdout=open(self.logfile, "a"), stderr=subprocess.STDOUT)
        wait_http("http://127.0.0.1:%d/ready" % self.admin)

    def pids(self):
        return [self.proc.pid] if self.alive() else []

    def installed_entries(self):
        """Entry files in the cache (<cache>/v1): grows while the disk thread
        still installs what the warm-up fetched."""
        return sum(len(names) for _, _, names in os.walk(os.path.join(self.dir, "cache", "v1")))


class Nginx(Server):
    name = "nginx"

    def __init__(self, workdir, upstream, workers):
        super().__init__(workdir, upstream, workers)
        self.port = free_port()
        self.h2c_port = free_port()
        self.logfile = os.path.join(workdir, "logs", "error.log")

    def conf_text(self):
        d = self.dir
        up = self.upstream.split("://", 1)[1]
        return NGINX_CONF % dict(dir=d, workers=self.workers, upstream=up, port=self.port,
                                 h2c_port=self.h2c_port, ttl=LIST_TTL_S)

    def start(self, fresh=True):
        if fresh:
            shutil.rmtree(os.path.join(self.dir, "cache"), ignore_errors=True)
        for sub in ("logs", "cache", "tmp"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(self.conf_text())
        cmd = ["taskset", "-c", SERVER_CPU, "nginx", "-p", self.dir, "-c", conf]
        self.cmd = " ".join(cmd)
        self.proc = subprocess.Popen(cmd, stdout=open(os.path.join(self.dir, "logs", "stdout.log"), "a"),
                                     stderr=subprocess.STDOUT)
        wait_http("http://127.0.0.1:%d/sumdb/sum.bench.example/supported" % self.port)
        deadline = time.monotonic() + 10
        while len(self.pids()) < 1 + self.workers and time.monotonic() < deadline:
            time.sleep(0.05)

    def pids(self):
        if not self.alive():
            return []
        return [self.proc.pid] + children_of(self.proc.pid)


# The nginx under test: a caching GOPROXY the way one would set it up by hand.
NGINX_CONF = """# written by tools/bench/bench.py
daemon off;
master_process on;
worker_processes %(workers)d;
worker_rlimit_nofile 20000;
pid %(dir)s/nginx.pid;
error_log %(dir)s/logs/error.log warn;
events { worker_connections 15000; }
http {
  access_log off;
  sendfile on;
  tcp_nopush off;            # 'on' makes 64 KiB cache hits take ~44 ms each here
  tcp_nodelay on;
  keepalive_timeout 300s;
  keepalive_requests 1000000;  # default 1000 would make h2load reconnect; modgate has no such limit
  client_body_temp_path %(dir)s/tmp/body;
  proxy_temp_path %(dir)s/tmp/proxy;
  fastcgi_temp_path %(dir)s/tmp/fastcgi;
  uwsgi_temp_path %(dir)s/tmp/uwsgi;
  scgi_temp_path %(dir)s/tmp/scgi;
  proxy_cache_path %(dir)s/cache levels=1:2 keys_zone=gomod:32m max_size=10g inactive=30d use_temp_path=off;
  upstream origin {
    server %(upstream)s;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:%(port)d;
    listen 127.0.0.1:%(h2c_port)d http2;   # h2c with prior knowledge
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache gomod;
      proxy_cache_key $uri;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 30s;
      proxy_cache_lock_age 30s;
      proxy_cache_valid 200 30d;        # .info/.mod/.zip, sumdb tiles: immutable
      proxy_cache_valid 404 410 60s;
      proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
      proxy_cache_background_update on;
      # mutable answers: short validity (same TTL as modgate's list_ttl/latest_ttl here)
      location ~ (/@v/list|/@latest|^/sumdb/[^/]+/latest)$ {
        proxy_pass http://origin;
        proxy_cache_valid 200 %(ttl)ds;
      }
    }
  }
}
"""


# ---------------------------------------------------------------- load


def url_lists(workdir, srv):
    """URI files for h2load, one set per server (and per protocol port)."""
    files = {}

    def write(kind, port, paths):
        fn = os.path.join(workdir, "%s-%s-%d.txt" % (srv.name, kind, port))
        with open(fn, "w") as f:
            for p in paths:
                f.write("http://127.0.0.1:%d%s\n" % (port, p))
        files[(kind, port)] = fn
        return fn

    small = ["/%s/m%04d/@v/v1.0.0" % (HOST, i) for i in range(SMALL_MODULES)]
    write("info", srv.port, [p + ".info" for p in small])
    write("info", srv.h2c_port, [p + ".info" for p in small])
    write("zip64k", srv.port, [p + ".zip" for p in small])
    write("zip10m", srv.port, ["/%s/big%02d/@v/v1.0.0.zip" % (HOST, i) for i in range(1, BIG_MODULES + 1)])
    write("list", srv.port, ["/%s/m%04d/@v/list" % (HOST, i) for i in range(LIST_MODULES)])
    return files


def warm_up(files, srv, kinds=("info", "zip64k", "zip10m", "list")):
    urls = []
    for kind in kinds:
        with open(files[(kind, srv.port)]) as f:
            urls += [l.strip() for l in f if l.strip()]

    def get(u):
        with urllib.request.urlopen(u, timeout=60) as r:
            return r.status, len(r.read())

    with concurrent.futures.ThreadPoolExecutor(32) as ex:
        res = list(ex.map(get, urls))
    bad = [u for u, (st, _) in zip(urls, res) if st != 200]
    if bad:
        raise RuntimeError("%s warm-up: %d non-200 answers, e.g. %s" % (srv.name, len(bad), bad[:3]))


def settle(srv, quiet_ticks=2, interval=1.0, limit=60.0):
    """Waits until the server's processes are idle: modgate installs what the
    warm-up fetched on its disk thread (write, fsync, rename) after the
    answers went out, and that work must not be billed to the first
    measurement after it. Idle: at most quiet_ticks clock ticks per interval
    and (modgate) no entry installed in it; the installs wait on fsync, so
    the CPU alone can look idle while they go on."""
    entries = getattr(srv, "installed_entries", lambda: 0)
    deadline = time.time() + limit
    before, count = srv.cpu_ticks(), entries()
    while time.time() < deadline:
        time.sleep(interval)
        after, now = srv.cpu_ticks(), entries()
        if sum(t - before.get(pid, 0) for pid, t in after.items()) <= quiet_ticks and now == count:
            return
        before, count = after, now
    log("%s still busy %.0f s after the warm-up; measuring anyway" % (srv.name, limit))


def cpu_delta_s(before, after):
    ticks = sum(t - before.get(pid, 0) for pid, t in after.items())
    return ticks / CLK_TCK


def count_origin(origin_log, offset, needle=None):
    with open(origin_log) as f:
        f.seek(offset)
        lines = f.read().splitlines()
    return sum(1 for l in lines if needle is None or needle in l)


def h2load(srv, files, kind, h1, conns, streams, duration, origin_log):
    port = srv.port if h1 else srv.h2c_port
    cmd = ["taskset", "-c", CLIENT_CPU, "h2load", "-t", "1", "-c", str(conns), "-D", str(duration),
           "-i", files[(kind, port)]]
    if h1:
        cmd.append("--h1")
    else:
        cmd += ["-m", str(streams)]
    off = os.path.getsize(origin_log)
    before = srv.cpu_ticks()
    # The client's own CPU: h2load is one thread on one core, so a client
    # busy for most of the run caps the rate whichever server it measures.
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = srv.cpu_ticks()
    time.sleep(0.2)
    r = {"cmd": " ".join(cmd), "cpu_s": cpu_delta_s(before, after), "origin_requests": count_origin(origin_log, off)}
    client_s = (client_after.ru_utime - client_before.ru_utime) + (client_after.ru_stime - client_before.ru_stime)
    r["client_busy"] = client_s / duration
    m = re.search(r"finished in ([\d.]+)s, ([\d.]+) req/s", out)
    r["req_s"] = float(m.group(2)) if m else 0.0
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", out)
    if m:
        r.update(done=int(m.group(3)), succeeded=int(m.group(4)), failed=int(m.group(5)),
                 errored=int(m.group(6)), timeout=int(m.group(7)))
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    if m:
        r["status_2xx"] = int(m.group(1))
        r["status_other"] = int(m.group(2)) + int(m.group(3)) + int(m.group(4))
    m = re.search(r"traffic: .*?\((\d+)\) total.*?\((\d+)\) data", out)
    if m:
        r["data_bytes"] = int(m.group(2))
    r["mib_s"] = r.get("data_bytes", 0) / duration / (1 << 20)
    n = r.get("status_2xx", 0)
    r["cpu_us_per_req"] = r["cpu_s"] * 1e6 / n if n else None
    if not m or r.get("failed", 1) or r.get("errored", 1) or r.get("status_other", 1):
        r["problem"] = out[-1500:]
    if not h1 and "Application protocol: h2c" not in out:
        r["problem"] = "not h2c:\n" + out[-1500:]
    return r


# ---------------------------------------------------------------- storm


class Sampler(threading.Thread):
    """Polls a server's summed VmRSS every 20 ms; keeps the maximum."""

    def __init__(self, srv):
        super().__init__(daemon=True)
        self.srv, self.peak, self.stop_ev = srv, 0, threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            self.peak = max(self.peak, self.srv.rss_kib())
            time.sleep(0.02)

    def finish(self):
        self.stop_ev.set()
        self.join()
        self.peak = max(self.peak, self.srv.rss_kib())
        return self.peak


def connect_many(port, n, timeout=30.0):
    """n non-blocking sockets connected to 127.0.0.1:port."""
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        sel.register(s, selectors.EVENT_WRITE)
        socks.append(s)
    pending = len(socks)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(1.0):
            err = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, "connect to port %d: %s" % (port, os.strerror(err)))
            sel.unregister(key.fileobj)
            pending -= 1
    sel.close()
    if pending:
        raise RuntimeError("%d of %d connects to port %d did not complete" % (pending, n, port))
    return socks


class Resp:
    """Incremental HTTP/1.1 response reader that discards the body (MSG_TRUNC)."""

    def __init__(self):
        self.head = b""
        self.status = None
        self.length = None      # Content-Length, or None when chunked
        self.chunked = False
        self.body = 0
        self.left = 0           # bytes left in the current chunk / body
        self.cstate = "size"    # chunked: size | data | crlf | done
        self.cbuf = b""
        self.first = None
        self.done = None
        self.error = None

    def feed_head(self, data):
        self.head += data
        i = self.head.find(b"\r\n\r\n")
        if i < 0:
            return None
        head, rest = self.head[:i].decode("latin-1"), self.head[i + 4:]
        lines = head.split("\r\n")
        self.status = int(lines[0].split()[1])
        hdrs = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if "chunked" in hdrs.get("transfer-encoding", "").lower():
            self.chunked = True
        else:
            self.length = int(hdrs.get("content-length", "0"))
            self.left = self.length
        return rest

    def feed_body(self, data):
        """Consumes bytes that were read (copy path); returns True when complete."""
        if not self.chunked:
            self.body += len(data)
            self.left -= len(data)
            return self.left <= 0
        buf = self.cbuf + data
        self.cbuf = b""
        while buf:
            if self.cstate == "data":
                k = min(self.left, len(buf))
                self.body += k
                self.left -= k
                buf = buf[k:]
                if self.left == 0:
                    self.cstate = "crlf"
            elif self.cstate == "crlf":
                if len(buf) < 2:
                    self.cbuf = buf
                    return False
                buf = buf[2:]
                self.cstate = "size"
            elif self.cstate == "size":
                i = buf.find(b"\r\n")
                if i < 0:
                    self.cbuf = buf
                    return False
                size = int(buf[:i].split(b";")[0], 16)
                buf = buf[i + 2:]
                if size == 0:
                    self.cstate = "done"
                    return True
                self.left, self.cstate = size, "data"
            else:
                return True
        return self.cstate == "done"

    def want_trunc(self):
        """Bytes that may be discarded unseen (body data, not framing)."""
        if self.status is None:
            return 0
        if not self.chunked:
            return self.left
        return self.left if self.cstate == "data" and not self.cbuf else 0


def drive(socks, resps, deadline):
    """Reads responses on all sockets until complete or deadline."""
    sel = selectors.DefaultSelector()
    for s, r in zip(socks, resps):
        sel.register(s, selectors.EVENT_READ, r)
    pending = len(socks)
    buf = bytearray(1 << 20)
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(0.5):
            s, r = key.fileobj, key.data
            try:
                trunc = r.want_trunc()
                if trunc:
                    n = s.recv_into(buf, min(trunc, len(buf)), socket.MSG_TRUNC)
                    data = None
                else:
                    n = s.recv_into(buf, 65536)
                    data = bytes(buf[:n])
            except BlockingIOError:
                continue
            except OSError as e:
                n, r.error = 0, str(e)
            now = time.monotonic()
            if n == 0:
                r.error = r.error or "connection closed after %d body bytes" % r.body
                r.done = now
                sel.unregister(s)
                pending -= 1
                continue
            if r.first is None:
                r.first = now
            complete = False
            if r.status is None:
                rest = r.feed_head(data)
                if rest is not None:
                    complete = r.feed_body(rest)
            elif data is None:
                r.body += n
                r.left -= n
                if r.chunked and r.left == 0:
                    r.cstate = "crlf"
                complete = not r.chunked and r.left <= 0
            else:
                complete = r.feed_body(data)
            if complete:
                r.done = now
                sel.unregister(s)
                pending -= 1
    sel.close()
    return pending


def pct(values, p):
    v = sorted(values)
    if not v:
        return None
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def storm(srv, origin_log):
    off = os.path.getsize(origin_log)
    socks = connect_many(srv.port, STORM_CLIENTS)
    req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: modgate-bench-storm\r\n\r\n"
           % (STORM_PATH, srv.port)).encode()
    resps = [Resp() for _ in socks]
    rss0 = srv.rss_kib()
    sampler = Sampler(srv)
    sampler.start()
    before = srv.cpu_ticks()
    t0 = time.monotonic()
    for s in socks:
        s.send(req)
    left = drive(socks, resps, t0 + 180)
    after = srv.cpu_ticks()
    peak = sampler.finish()
    for s in socks:
        s.close()
    time.sleep(0.5)
    ok = [r for r in resps if r.status == 200 and r.error is None and r.body == STORM_SIZE]
    firsts = [(r.first - t0) * 1000 for r in resps if r.first is not None]
    dones = [(r.done - t0) * 1000 for r in ok]
    errors = sorted(set("status=%s body=%d %s" % (r.status, r.body, r.error or "") for r in resps if r not in ok))
    return {
        "clients": STORM_CLIENTS, "ok": len(ok), "unfinished": left, "errors": errors[:5],
        "origin_requests": count_origin(origin_log, off, STORM_PATH),
        "first_byte_min_ms": min(firsts) if firsts else None,
        "first_byte_max_ms": max(firsts) if firsts else None,
        "first_byte_spread_ms": (max(firsts) - min(firsts)) if firsts else None,
        "done_p50_ms": pct(dones, 50), "done_p99_ms": pct(dones, 99),
        "done_max_ms": max(dones) if len(ok) == STORM_CLIENTS else None,
        "rss_before_kib": rss0, "peak_rss_kib": peak, "cpu_s": cpu_delta_s(before, after),
    }


# ---------------------------------------------------------------- idle connections


def idle_conns(srv, n=IDLE_CONNS, batch=250):
    """RSS growth for n idle keep-alive connections, each after one .info request."""
    time.sleep(0.5)
    rss0 = srv.rss_kib()
    socks = []
    path = "/%s/m0000/@v/v1.0.0.info" % HOST
    req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (path, srv.port)).encode()
    failures = 0
    for i in range(0, n, batch):
        group = connect_many(srv.port, min(batch, n - i))
        for s in group:
            s.send(req)
        resps = [Resp() for _ in group]
        drive(group, resps, time.monotonic() + 30)
        failures += sum(1 for r in resps if r.status != 200 or r.error or r.done is None)
        socks += group
    time.sleep(2.0)
    # Still open? A closed connection reads as EOF.
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    closed = 0
    for key, _ in sel.select(0):
        try:
            if key.fileobj.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    sel.close()
    rss1 = srv.rss_kib()
    open_n = len(socks) - closed
    linger = (1).to_bytes(4, "little") + (0).to_bytes(4, "little")
    for s in socks:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        except OSError:
            pass
        s.close()
    return {"conns": len(socks), "open_at_measure": open_n, "failed_requests": failures,
            "rss_before_kib": rss0, "rss_after_kib": rss1,
            "per_conn_kib": (rss1 - rss0) / open_n if open_n else None}


# ---------------------------------------------------------------- one repetition

# (key, h2load kind, HTTP/1.1?, connections, streams per connection)
WARM = [
    ("info_h1", "info", True, 64, 1),
    ("info_h2c", "info", False, 8, 32),
    ("zip64k_h1", "zip64k", True, 64, 1),
    ("zip10m_h1", "zip10m", True, 16, 1),
    ("list_h1", "list", True, 64, 1),
]


def run_rep(rep, opts, origin_url, origin_log):
    base = os.path.join(opts.workdir, "rep%d" % rep)
    shutil.rmtree(base, ignore_errors=True)
    mg = Modgate(os.path.join(base, "modgate"), origin_url, opts.workers, opts.modgate)
    ng = Nginx(os.path.join(base, "nginx"), origin_url, opts.workers)
    for s in (mg, ng):
        os.makedirs(s.dir, exist_ok=True)
    servers = [mg, ng] if rep % 2 == 0 else [ng, mg]
    res = {s.name: {} for s in servers}
    # --only: a partial run for development, some warm scenarios only.
    only = set(opts.only.split(",")) if opts.only else None
    try:
        # Phase 1, fresh processes: idle RSS, then 10,000 idle keep-alive connections.
        for s in servers:
            s.start()
        time.sleep(1.0)
        for s in servers:
            res[s.name]["idle_rss_kib"] = s.rss_kib()
            res[s.name]["idle_anon_kib"], res[s.name]["idle_file_kib"] = s.rss_split_kib()
            res[s.name]["cmd"] = s.cmd
        for s in servers if only is None else []:
            res[s.name]["idle_conns"] = idle_conns(s)
            s.check("idle connections")
            log("rep %d: %s idle RSS %d KiB, idle conns %s" % (rep, s.name, res[s.name]["idle_rss_kib"],
                                                              res[s.name]["idle_conns"]))
        # Phase 2, restarted with empty caches: the cold storm.
        for s in servers if only is None else []:
            s.stop()
            s.start(fresh=True)
        time.sleep(0.5)
        for s in servers if only is None else []:
            r = storm(s, origin_log)
            s.check("storm")
            res[s.name]["storm"] = r
            log("rep %d: storm %s %s" % (rep, s.name, {k: (round(v, 1) if isinstance(v, float) else v)
                                                       for k, v in r.items() if k != "errors"}))
            if r["errors"]:
                log("rep %d: storm %s errors: %s" % (rep, s.name, r["errors"]))
        # Phase 3, same processes: warm every URI once, then the warm scenarios.
        files = {}
        for s in servers:
            files[s.name] = url_lists(base, s)
            t = time.monotonic()
            warm_up(files[s.name], s)
            # The peak so far covers the storm and the warm-up on these processes.
            res[s.name]["warm_hwm_kib"] = s.hwm_kib()
            res[s.name]["warm_anon_kib"], res[s.name]["warm_file_kib"] = s.rss_split_kib()
            log("rep %d: %s warmed up in %.1fs, VmHWM %d KiB, RssAnon %d KiB, RssFile %d KiB" % (
                rep, s.name, time.monotonic() - t, res[s.name]["warm_hwm_kib"],
                res[s.name]["warm_anon_kib"], res[s.name]["warm_file_kib"]))
            settle(s)
        for key, kind, h1, conns, streams in WARM:
            if opts.memory or (only is not None and key not in only):
                continue
            for s in servers:
                r = h2load(s, files[s.name], kind, h1, conns, streams, opts.duration, origin_log)
                s.check(key)
                res[s.name][key] = r
                log("rep %d: %-9s %-7s %9.0f req/s %8.1f MiB/s cpu %s us/req client core %.0f%% busy origin %d%s" % (
                    rep, key, s.name, r["req_s"], r["mib_s"],
                    "%.1f" % r["cpu_us_per_req"] if r["cpu_us_per_req"] else "-",
                    100 * r["client_busy"], r["origin_requests"], "  PROBLEM" if "problem" in r else ""))
    finally:
        for s in servers:
            s.stop()
            res[s.name]["peak_rss_kib"] = s.hwm_max_kib
            res[s.name]["incidents"] = s.incidents
    return res


# ---------------------------------------------------------------- report


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs):
    xs = [x for x in xs if x is not None]
    return (min(xs), max(xs)) if xs else (None, None)


# (label, getter, unit, fmt, higher_is_better, ratio target, absolute target on modgate)
def metric_rows():
    def warm(key, field):
        return lambda r: r[key].get(field)

    def storm(field):
        return lambda r: r["storm"].get(field)

    def kib_to_mib(f):
        return lambda r: (f(r) / 1024.0) if f(r) is not None else None

    return [
        ("info HTTP/1.1 x64 req/s", warm("info_h1", "req_s"), "%.0f", (">=", 1.0), None),
        ("info HTTP/1.1 CPU us/req", warm("info_h1", "cpu_us_per_req"), "%.2f", ("<=", 0.67), None),
        ("info h2c 8x32 req/s", warm("info_h2c", "req_s"), "%.0f", (">=", 1.0), None),
        ("info h2c CPU us/req", warm("info_h2c", "cpu_us_per_req"), "%.2f", ("<=", 0.5), None),
        ("info h2c client core busy", warm("info_h2c", "client_busy"), "%.2f", None, None),
        ("zip 64KiB x1000 req/s", warm("zip64k_h1", "req_s"), "%.0f", (">=", 1.0), None),
        ("zip 64KiB CPU us/req", warm("zip64k_h1", "cpu_us_per_req"), "%.1f", None, None),
        ("zip 10MiB MiB/s", warm("zip10m_h1", "mib_s"), "%.0f", (">=", 1.0), None),
        ("zip 10MiB CPU us/req", warm("zip10m_h1", "cpu_us_per_req"), "%.0f", None, None),
        ("zip 10MiB client core busy", warm("zip10m_h1", "client_busy"), "%.2f", None, None),
        ("@v/list ttl=1s req/s", warm("list_h1", "req_s"), "%.0f", (">=", 1.0), None),
        ("@v/list CPU us/req", warm("list_h1", "cpu_us_per_req"), "%.2f", None, None),
        ("@v/list origin requests", warm("list_h1", "origin_requests"), "%.0f", None, None),
        ("storm origin requests", storm("origin_requests"), "%.0f", None, ("==", 1)),
        ("storm 1st byte, first ms", storm("first_byte_min_ms"), "%.0f", None, None),
        ("storm 1st byte spread ms", storm("first_byte_spread_ms"), "%.0f", None, ("<=", 100)),
        ("storm done p50 ms", storm("done_p50_ms"), "%.0f", None, None),
        ("storm done p99 ms", storm("done_p99_ms"), "%.0f", None, None),
        ("storm done all ms", storm("done_max_ms"), "%.0f", ("<=", 1.0), None),
        ("storm ok clients /200", storm("ok"), "%.0f", None, ("==", 200)),
        ("storm peak RSS MiB", kib_to_mib(storm("peak_rss_kib")), "%.1f", ("<=+", 16), None),
        ("storm RSS growth MiB", kib_to_mib(lambda r: r["storm"]["peak_rss_kib"] - r["storm"]["rss_before_kib"]),
         "%.1f", None, None),
        ("idle RSS MiB", kib_to_mib(lambda r: r.get("idle_rss_kib")), "%.1f", None, ("<=", 8)),
        ("idle RssAnon MiB", kib_to_mib(lambda r: r.get("idle_anon_kib")), "%.1f", None, None),
        ("idle RssFile MiB", kib_to_mib(lambda r: r.get("idle_file_kib")), "%.1f", None, None),
        ("RSS per idle conn KiB", lambda r: r["idle_conns"].get("per_conn_kib"), "%.2f", None, ("<", 10)),
        ("warm-up peak RSS (VmHWM) MiB", kib_to_mib(lambda r: r.get("warm_hwm_kib")), "%.1f", ("<=+", 16), None),
        ("warm-up RssAnon MiB", kib_to_mib(lambda r: r.get("warm_anon_kib")), "%.1f", None, None),
        ("warm-up RssFile MiB", kib_to_mib(lambda r: r.get("warm_file_kib")), "%.1f", None, None),
        ("peak RSS (VmHWM) MiB", kib_to_mib(lambda r: r.get("peak_rss_kib")), "%.1f", ("<=+", 16), None),
    ]


def check(op, value, target):
    if value is None:
        return False
    return {">=": value >= target, "<=": value <= target, "<": value < target, "==": value == target}[op]


def summarize(reps):
    rows = []
    def value(get, result):
        try:
            return get(result)
        except (KeyError, TypeError):  # not measured in this (--only) run
            return None

    for label, get, fmt, rtarget, atarget in metric_rows():
        mv = [value(get, r["modgate"]) for r in reps]
        nv = [value(get, r["nginx"]) for r in reps]
        if all(v is None for v in mv + nv):
            continue
        ratios = [m / n if (m is not None and n) else None for m, n in zip(mv, nv)]
        row = {"label": label, "fmt": fmt, "modgate": mv, "nginx": nv, "ratio": ratios,
               "m_med": med(mv), "n_med": med(nv), "r_med": med(ratios)}
        if rtarget and rtarget[0] == "<=+":
            # An allowance over nginx measured in the same repetition (memory).
            diffs = [m - n if (m is not None and n is not None) else None for m, n in zip(mv, nv)]
            row["target"] = "modgate <= nginx + %s" % rtarget[1]
            row["pass"] = check("<=", med(diffs), rtarget[1])
        elif rtarget:
            row["target"] = "ratio %s %s" % rtarget
            row["pass"] = check(rtarget[0], row["r_med"], rtarget[1])
        elif atarget:
            row["target"] = "modgate %s %s" % atarget
            row["pass"] = check(atarget[0], row["m_med"], atarget[1])
        else:
            row["target"], row["pass"] = "", None
        rows.append(row)
    return rows


def f(fmt, v):
    return "-" if v is None else fmt % v


def fspread(fmt, xs):
    lo, hi = spread(xs)
    if lo is None:
        return "-"
    if len([x for x in xs if x is not None]) == 1:
        return fmt % lo
    return (fmt % lo) + ".." + (fmt % hi)


def table_text(rows, nreps):
    hdr = ["scenario", "modgate", "nginx", "ratio", "ratio spread", "target", "result"]
    lines = []
    for r in rows:
        lines.append([r["label"], f(r["fmt"], r["m_med"]), f(r["fmt"], r["n_med"]), f("%.2fx", r["r_med"]),
                      fspread("%.2f", r["ratio"]) if nreps > 1 else "", r["target"],
                      "" if r["pass"] is None else ("pass" if r["pass"] else "MISS")])
    widths = [max(len(x[i]) for x in lines + [hdr]) for i in range(len(hdr))]
    out = []
    for i, l in enumerate([hdr] + lines):
        out.append("  ".join(c.ljust(w) if j == 0 else c.rjust(w) if j < 5 else c.ljust(w)
                             for j, (c, w) in enumerate(zip(l, widths))).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def per_rep_md(rows):
    out = ["| scenario | modgate per run | nginx per run | ratio per run |", "|---|---|---|---|"]
    for r in rows:
        out.append("| %s | %s | %s | %s |" % (
            r["label"], ", ".join(f(r["fmt"], v) for v in r["modgate"]),
            ", ".join(f(r["fmt"], v) for v in r["nginx"]), ", ".join(f("%.2f", v) for v in r["ratio"])))
    return "\n".join(out)


def machine_facts(opts):
    def sh(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, shell=True)
            return (p.stdout + p.stderr).strip()
        except OSError as e:
            return str(e)

    model = ""
    with open("/proc/cpuinfo") as fp:
        for line in fp:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = sh("awk '/MemTotal/{printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(), "cpu": model, "mem": mem, "kernel": platform.release(),
        "os": sh(". /etc/os-release && echo $PRETTY_NAME"),
        "nginx": sh("nginx -v"), "h2load": sh("h2load --version | head -1"),
        "python": platform.python_version(),
        "modgate": os.environ.get("BENCH_MODGATE_SOURCE", "?") + ", built with --config=release",
        "loadavg_start": opts.loadavg_start,
    }


# Sections of docs/benchmarks.md written from other tools' runs (run.sh
# --memory, sidecar_memory.py, xds_fleet.py, verify_cost.py, tls_bench.py): a full run keeps them.
KEPT_SECTIONS = ("## Sidecar memory", "## Memory beside nginx", "## Control plane at",
                 "## Checksum verification on a cold miss", "## TLS downstream beside nginx",
                 "## Cold path (issue 12)")


def kept_sections(path):
    try:
        with open(path) as fp:
            text = fp.read()
    except OSError:
        return ""
    parts = re.split(r"(?m)^(?=## )", text)
    return "".join(p.rstrip() + "\n\n" for p in parts if p.startswith(KEPT_SECTIONS))


def write_docs(path, rows, facts, opts, reps, incidents, text):
    nrep = len(reps)
    misses = [r for r in rows if r["pass"] is False]
    miss_lines = []
    for r in misses:
        if r["target"].startswith("ratio"):
            miss_lines.append("- **%s**: ratio %s (target %s)." % (r["label"], f("%.2fx", r["r_med"]), r["target"][6:]))
        else:
            miss_lines.append("- **%s**: modgate %s (target %s)." % (r["label"], f(r["fmt"], r["m_med"]), r["target"][8:]))
    doc = DOC_TEMPLATE.format(
        date=facts["date"], reps=nrep, duration=opts.duration, workers=opts.workers, table=text,
        facts="\n".join("- %s: %s" % (k, v) for k, v in facts.items()),
        per_rep=per_rep_md(rows),
        misses="\n".join(miss_lines) if miss_lines else "- none",
        incidents="\n".join("- " + i.replace("\n", "\n  ") for i in incidents) if incidents else "- none",
        delay=ORIGIN_DELAY_MS, rate=ORIGIN_RATE // 1000000, ttl=LIST_TTL_S,
        kept=kept_sections(path))
    with open(path, "w") as fp:
        fp.write(doc)


DOC_TEMPLATE = """# Benchmarks: modgate vs nginx as a caching GOPROXY

Measured with `tools/bench/run.sh` on {date}: {reps} repetitions, medians
shown, "ratio spread" is the lowest..highest of the per-run modgate/nginx
ratios. Each ratio compares modgate and nginx measured in the same
repetition (same minute, same machine state). The machine is shared and
noisy; treat differences under ~10% as noise.

```
{table}
```

Ratio is modgate / nginx. For req/s and MiB/s higher is better; for CPU
time per request, latency and RSS lower is better. Targets from the
performance issue: warm req/s and 10 MiB MB/s >= 1.0x nginx; server CPU per
small request <= 0.67x (HTTP/1.1) and <= 0.5x (h2c); storm: exactly one
origin request, every client's first byte within 100 ms of the first
client's, all 200 done no later than nginx; peak RSS during the storm, after
the warm-up and over the whole repetition <= nginx's + 16 MiB (issue 12);
idle RSS <= 8 MiB; < 10 KiB RSS per idle keep-alive connection.

## Reading the results

- `@v/list`: nginx is configured with `proxy_cache_use_stale updating` and
  `proxy_cache_background_update on`, so an expired list is answered from
  the stale copy while one background request refreshes it. A proxy that
  instead makes clients wait for the refetch (50 ms at this origin) loses
  badly here: h2load's connections walk the same URI list in step, so once
  a walk over the 100 lists takes longer than the TTL, every step finds an
  expired entry and all 64 connections wait for the origin together.
- Storm: nginx's cache lock makes the other 199 clients sleep (polling every
  500 ms) until the whole 100 MiB is in the cache, so their first byte comes
  ~1.5 s after the first client's; then all 200 are served from the cache
  file with sendfile.
- h2load runs on one core; at ~2 GB/s (10 MiB zips) it may itself be the
  limit, which compresses that ratio; CPU per request still shows the cost.
- nginx's RSS is the sum over its processes (master, worker, cache
  manager/loader), so pages they share are counted more than once.
- modgate's peak VmHWM includes its hot-object cache (bodies up to 16 KiB,
  4 MiB in all by default) and, over the whole repetition, the 10,000 idle
  connections; RssFile is mapped code and files (shared with the page
  cache), RssAnon the process's own memory.

{kept}## Where the CPU per request went (perf and strace, one worker)

Each step was measured as a paired A/B on the same load; the commits
name the numbers.

- Sockets: a libevent bufferevent re-armed EPOLLOUT (two `epoll_ctl`) and
  sized each read with `ioctl(FIONREAD)`: five syscalls per keep-alive
  hit. `SocketConnection` now registers one edge-triggered event for its
  life and flushes once per callback: `read` + `writev` (warm .info,
  HTTP/1.1: 14.0 -> 12.1 us/request).
- Parsing: strict validation of the request target was ~15% of a warm
  hit; a per-worker `RequestCache` keeps parsed targets (-> ~10.9 us).
- Open files: a 256-entry open-file cache missed on every request over
  1000 zips, so each hit opened its file through the disk thread pool; it
  is now sized from the descriptor limit.
- Segments: headers went out as a TCP segment of their own ahead of each
  `sendfile` body; `Buffer::writeTo` sends them with `MSG_MORE` (64 KiB
  zips: ~15% less CPU per request).

## Targets missed (medians)

{misses}

## Crashes and misbehaviour seen during the run

{incidents}

## Machine

{facts}

`loadavg_start` is /proc/loadavg when the run began (other engineers'
builds and tests share this machine).

## Method

- **Build**: `bazel --output_base=/tmp/ob-bench build --config=release //source/exe:modgate`
  (.bazelrc: `-c opt`, stripped, Debian's static archives where they exist).
- **Origin**: `test/integration/origin.py` (Python, threaded, HTTP/1.1
  keep-alive) serving a synthetic GOPROXY tree written by
  `tools/bench/gen_modules.py`: 1000 modules `bench.example.com/mNNNN` with
  a `.info`, `.mod`, `@v/list`, `@latest` and a 64 KiB `.zip`, four modules
  with 10 MiB zips, one with a 100 MiB zip (zip bodies are random bytes;
  neither proxy looks inside). WAN-like: `--delay-ms {delay}` on every
  request and `--rate` {rate} MB/s per response, so the cold 100 MiB fetch
  takes ~1.1 s.
- **Servers**: both started fresh with empty caches in every repetition,
  pinned to core 1 (`taskset -c 1`), {workers} worker(s) each
  (`--concurrency {workers}` / `worker_processes {workers}`; override with
  `BENCH_WORKERS`), the same upstream. modgate: `--log-level warn` and a
  config file with `list_ttl`/`latest_ttl` {ttl}s and `idle_timeout` 300s.
  nginx 1.22: `proxy_cache` (key `$uri`, `use_temp_path=off`),
  `proxy_cache_lock on`, 30d validity for 200s, {ttl}s for `@v/list`,
  `@latest` and `/sumdb/*/latest`, `proxy_cache_use_stale updating` +
  `proxy_cache_background_update on`, `proxy_http_version 1.1` with an
  upstream keepalive pool, `sendfile on`, `tcp_nopush` off (on costs ~44 ms
  per 64 KiB hit here), `access_log off`, `keepalive_requests 1000000`, h2c
  on a second `listen ... http2` port. The generated configs are in the
  work directory (`rep*/modgate/modgate.yaml`, `rep*/nginx/nginx.conf`).
- **Clients**: pinned to core 0 (the origin too). Before measuring, every
  URI is fetched once through each proxy. Warm scenarios use `h2load -t 1
  -D {duration}` with `-i` URI lists: `.info` over 1000 modules (HTTP/1.1
  `--h1 -c 64`; h2c prior knowledge `-c 8 -m 32`), 64 KiB zips over 1000
  modules (`--h1 -c 64`), 10 MiB zips over 4 modules (`--h1 -c 16`, body
  MiB/s), `@v/list` over 100 modules with a {ttl}s TTL (`--h1 -c 64`, so
  entries expire and are refetched during the run; origin requests shown).
  The two servers alternate which goes first in each repetition.
- **Server CPU per request**: utime+stime from `/proc/PID/stat` of all
  server processes (modgate: the process, all threads; nginx: master and
  all children) before and after each h2load run, divided by the 2xx
  responses h2load counted.
- **Order in each repetition**: (1) start both; idle RSS; idle
  connections; (2) restart both with empty caches; storm; (3) warm-up and
  the warm scenarios on those same processes.
- **Storm**: 200 raw-socket HTTP/1.1 clients (one Python epoll loop,
  bodies discarded with `MSG_TRUNC`) connect first, then all send `GET` for
  the uncached 100 MiB zip at once. Per client: time to first response
  byte and to the last body byte, from the moment the requests were sent.
  "spread" = last client's first byte minus first client's first byte.
  Origin requests are counted from the origin's request log. RSS during
  the storm is the peak of the summed `VmRSS`, sampled every 20 ms.
- **RSS**: `VmRSS` from `/proc/PID/status` (nginx: sum over master and
  workers, which counts shared pages once per process). Idle RSS: 1 s after
  start, before any request. Per idle connection: on the fresh servers,
  10,000 HTTP/1.1 connections (opened 250 at a time) each make one request
  for the same `.info` (the first fetches it from the origin) and stay open
  (keep-alive); after 2 s, (RSS with them open - RSS before) / connections
  still open. Peak RSS: the largest `VmHWM` of the repetition's server
  processes (summed for nginx), read before each stop.

## Per-run values

{per_rep}
"""


# ---------------------------------------------------------------- main


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--modgate", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--duration", type=int, default=8)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--docs", help="write the markdown report here")
    p.add_argument("--memory", action="store_true",
                   help="memory scenarios only: idle RSS, idle connections, storm, warm-up peak")
    p.add_argument("--only", help="comma-separated warm scenarios (%s); skips the rest" %
                   ",".join(w[0] for w in WARM))
    opts = p.parse_args()
    with open("/proc/loadavg") as fp:
        opts.loadavg_start = fp.read().strip()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < IDLE_CONNS + 1000:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.makedirs(opts.workdir, exist_ok=True)
    origin_log = os.path.join(opts.workdir, "origin.log")
    open(origin_log, "w").close()
    origin, origin_url = start_origin(opts.workdir, opts.data, ["--log", origin_log, "--delay-ms",
                                                                str(ORIGIN_DELAY_MS), "--rate", str(ORIGIN_RATE)])
    reps = []
    try:
        for rep in range(opts.reps):
            t = time.monotonic()
            log("repetition %d/%d" % (rep + 1, opts.reps))
            reps.append(run_rep(rep, opts, origin_url, origin_log))
            log("repetition %d took %.0fs" % (rep + 1, time.monotonic() - t))
    finally:
        origin.send_signal(signal.SIGTERM)
        try:
            origin.wait(10)
        except subprocess.TimeoutExpired:
            origin.kill()

    rows = summarize(reps)
    text = table_text(rows, len(reps))
    facts = machine_facts(opts)
    incidents = []
    for i, r in enumerate(reps):
        for name in ("modgate", "nginx"):
            for inc in r[name].get("incidents", []):
                incidents.append("run %d: %s" % (i + 1, inc))
            for k, v in r[name].items():
                if isinstance(v, dict) and v.get("problem"):
                    incidents.append("run %d: %s %s: h2load reported failures/non-2xx:\n%s" % (i + 1, name, k, v["problem"]))
                if k == "storm" and (v.get("errors") or v.get("unfinished")):
                    incidents.append("run %d: %s storm: %d/%d ok, %d unfinished, errors %s" % (
                        i + 1, name, v["ok"], v["clients"], v["unfinished"], v["errors"]))
                if k == "idle_conns" and (v.get("failed_requests") or v.get("open_at_measure") != v.get("conns")):
                    incidents.append("run %d: %s idle connections: %s" % (i + 1, name, v))
    with open(os.path.join(opts.workdir, "results.json"), "w") as fp:
        json.dump({"facts": facts, "reps": reps, "incidents": incidents}, fp, indent=1, default=str)
    print()
    print("modgate vs nginx, %d run(s), medians (ratio = modgate/nginx)" % len(reps))
    print(text)
    if incidents:
        print("\nincidents:")
        for i in incidents:
            print("  " + i.replace("\n", "\n    "))
    print("\nraw results: %s" % os.path.join(opts.workdir, "results.json"))
    if opts.docs:
        write_docs(opts.docs, rows, facts, opts, reps, incidents, text)
        print("wrote %s" % opts.docs)


if __name__ == "__main__":
    main()
