#!/usr/bin/env python3
"""What checksum verification costs a cold .zip miss (issue 11): the time to
the last byte of a zip fetched through a modgate with an empty cache, in
three configs, against the test fixture origin (its real module tree and its
signed checksum database, /work/shared/fixtures/make-origin.sh):

  A  no sumdbs: nothing verified
  B  sumdbs[].key set: the zip is held until verified (the default)
  C  sumdbs[].key set, stream_while_verifying: true: every byte but the
     last streams while the zip downloads, the last waits for the verdict

Each sample is a fresh modgate with a fresh cache dir (so the checksum
database's lookup and tiles are cold too, as on a real first miss) and one
HTTP/1.1 client (a Python socket client) timing connect to last body byte.
The origin is nginx serving the fixture as static files (or
test/integration/origin.py with --origin python), fast enough not to hide
modgate's cost; "O" samples time the same client against the origin
directly. Within each repetition the configs are interleaved (O, A, B, C),
so a change in the machine's load hits all of them alike; the report gives
medians and the per-repetition ratios B/A and C/A with their spread.
Target: B/A and C/A <= 1.05.

Pinning as bench.py: client and origin on core 0, modgate on core 1.
Python 3 standard library only.

  verify_cost.py --modgate BIN [--fixture DIR] [--reps 7] [--workdir DIR]
                 [--origin nginx|python] [--origin-rate BYTES_PER_S]
                 [--zip MODULE@VERSION ...]
"""

import argparse
import hashlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the tree from importing bench.py
from bench import CLIENT_CPU, ORIGIN_PY, SERVER_CPU, free_port, loadavg, wait_http  # noqa: E402

TARGET = 1.05
CONFIGS = ("A", "B", "C")
CONFIG_NAMES = {
    "O": "origin direct (no modgate)",
    "A": "modgate, no sumdbs",
    "B": "modgate, sumdb key (held until verified)",
    "C": "modgate, sumdb key, stream_while_verifying",
}

# A static file server for the fixture tree; bodies by sendfile.
NGINX_CONF = """# written by tools/bench/verify_cost.py
daemon off;
master_process off;
worker_processes 1;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nodelay on;
  limit_rate %(rate)d;        # bytes/s per response; 0: none
  default_type application/octet-stream;
  client_body_temp_path %(dir)s/tmp/body;
  proxy_temp_path %(dir)s/tmp/proxy;
  fastcgi_temp_path %(dir)s/tmp/fastcgi;
  uwsgi_temp_path %(dir)s/tmp/uwsgi;
  scgi_temp_path %(dir)s/tmp/scgi;
  server {
    listen 127.0.0.1:%(port)d;
    root %(root)s;
  }
}
"""


def log(msg):
    sys.stderr.write("[verify_cost %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def fetch(port, path):
    """GET path over one new HTTP/1.1 connection: (status, ttfb_s, ttlb_s, body).

    Timed from before connect to the first response byte and to the last
    body byte (Content-Length bodies only, as modgate and nginx send zips).
    """
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port))
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path).encode())
        head = b""
        ttfb = None
        while b"\r\n\r\n" not in head:
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed in the response headers")
            if ttfb is None:
                ttfb = time.perf_counter() - t0
            head += chunk
        head, rest = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = None
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v.strip())
        if length is None:
            raise RuntimeError("no Content-Length: %s" % lines[0])
        body = bytearray(length)
        view = memoryview(body)
        got = len(rest)
        view[:got] = rest
        while got < length:
            n = s.recv_into(view[got:], min(length - got, 1 << 20))
            if n == 0:
                raise RuntimeError("connection closed after %d of %d body bytes" % (got, length))
            got += n
        ttlb = time.perf_counter() - t0
        return status, ttfb, ttlb, bytes(body)
    finally:
        s.close()


class Origin:
    """The fixture served by nginx (static, sendfile) or by origin.py."""

    def __init__(self, kind, fixture, workdir, rate):
        self.kind = kind
        self.rate = rate
        self.dir = os.path.join(workdir, "origin")
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        if kind == "nginx":
            self.port = free_port()
            conf = os.path.join(self.dir, "nginx.conf")
            with open(conf, "w") as f:
                f.write(NGINX_CONF % dict(dir=self.dir, port=self.port, root=os.path.abspath(fixture),
                                          rate=rate))
            self.cmd = ["taskset", "-c", CLIENT_CPU, "nginx", "-p", self.dir, "-c", conf]
            self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL,
                                         stderr=open(os.path.join(self.dir, "stderr.log"), "w"))
        else:
            port_file = os.path.join(self.dir, "port")
            self.cmd = ["taskset", "-c", CLIENT_CPU, sys.executable, ORIGIN_PY, "--root", fixture,
                        "--port", "0", "--port-file", port_file] + (["--rate", str(rate)] if rate else [])
            self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL,
                                         stderr=open(os.path.join(self.dir, "stderr.log"), "w"))
            deadline = time.monotonic() + 60
            while not os.path.exists(port_file) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.port = int(open(port_file).read())
        self.url = "http://127.0.0.1:%d" % self.port
        wait_http(self.url + "/sumdb/%s/supported" % sumdb_env(fixture)[0], timeout=60)


def sumdb_env(fixture):
    env = {}
    with open(os.path.join(fixture, "sumdb.env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            env[k] = v
    return env["GOSUMDB_NAME"], env["GOSUMDB_KEY"]


def modgate_conf(config, name, key):
    text = "# written by tools/bench/verify_cost.py, config %s\n" % config
    if config == "A":
        return text
    text += "sumdbs:\n  - name: %s\n    key: %s\n" % (name, key)
    if config == "C":
        text += "    stream_while_verifying: true\n"
    return text


def verify_counts(admin_port):
    """modgate_verify_total by result, from the admin port."""
    out = {}
    with urllib.request.urlopen("http://127.0.0.1:%d/stats/prometheus" % admin_port, timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("modgate_verify_total{"):
                result = line.split('result="', 1)[1].split('"', 1)[0]
                out[result] = int(float(line.split()[-1]))
    return out


def modgate_sample(opts, origin, config, path, want_sha, sumdb):
    """One cold miss: a fresh modgate on a fresh cache dir, one GET of path."""
    d = os.path.join(opts.workdir, "modgate")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "cache"))
    conf = os.path.join(d, "modgate.yaml")
    with open(conf, "w") as f:
        f.write(modgate_conf(config, *sumdb))
    port, admin = free_port(), free_port()
    cmd = ["taskset", "-c", SERVER_CPU, opts.modgate, "-c", conf, "--no-watch",
           "--listen", "127.0.0.1:%d" % port, "--admin", "127.0.0.1:%d" % admin,
           "--upstream", origin.url, "--cache-dir", os.path.join(d, "cache"),
           "--concurrency", "1", "--log-level", "warn"]
    proc = subprocess.Popen(cmd, stdout=open(os.path.join(d, "modgate.log"), "w"), stderr=subprocess.STDOUT)
    try:
        wait_http("http://127.0.0.1:%d/ready" % admin, timeout=60)
        status, ttfb, ttlb, body = fetch(port, path)
        counts = verify_counts(admin)
    finally:
        stop(proc)
    check_body(config, path, status, body, want_sha)
    want_ok = 0 if config == "A" else 1
    if counts.get("ok", 0) != want_ok or any(v for k, v in counts.items() if k != "ok"):
        raise RuntimeError("config %s %s: modgate_verify_total %s, want ok=%d" % (config, path, counts, want_ok))
    return ttfb, ttlb


def check_body(config, path, status, body, want_sha):
    if status != 200 or hashlib.sha256(body).hexdigest() != want_sha:
        raise RuntimeError("config %s %s: status %d, %d bytes, not the fixture's file" %
                           (config, path, status, len(body)))


def pick_zips(fixture, asked):
    """[(module@version, path, size)]: the asked ones, else the biggest zip and
    the one nearest 10 MiB if one is within 5..20 MiB."""
    zips = []
    with open(os.path.join(fixture, "manifest.txt")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            fields = line.split()
            size = [int(x[4:]) for x in fields[2:] if x.startswith("zip=")]
            if size:
                zips.append(("%s@%s" % (fields[0], fields[1]),
                             "/%s/@v/%s.zip" % (fields[0], fields[1]), size[0]))
    if asked:
        byname = {z[0]: z for z in zips}
        return [byname[a] for a in asked]
    zips.sort(key=lambda z: z[2])
    chosen = [zips[-1]]
    mib10 = 10 * 1024 * 1024
    near = [z for z in zips if 5 * 1024 * 1024 <= z[2] <= 20 * 1024 * 1024]
    if near:
        best = min(near, key=lambda z: abs(z[2] - mib10))
        if best != zips[-1]:
            chosen.append(best)
    return chosen


def ms(v):
    return "%.1f" % (v * 1000)


def report(zips, samples, opts, origin, load_start, load_end, sumdb):
    out = []
    out.append("modgate %s; origin %s on %s (%s); %d repetitions, interleaved O A B C; "
               "fresh modgate + cache dir per sample; --concurrency 1" %
               (opts.modgate, origin.kind, origin.url,
                "%d bytes/s per response" % origin.rate if origin.rate else "no rate cap", opts.reps))
    out.append("load average (1/5/15 min): start %s, end %s" % (load_start, load_end))
    out.append("sumdb %s" % sumdb[0])
    out.append("")
    out.append("| zip | config | TTFB median ms | TTLB median ms | TTLB min..max ms | "
               "ratio to A (median of per-rep) | ratio spread | target <= %.2f |" % TARGET)
    out.append("|---|---|---:|---:|---:|---:|---:|---|")
    verdict = []
    for name, _, size in zips:
        s = samples[name]
        label = "%s (%d B, %.1f MiB)" % (name, size, size / 1048576.0)
        for c in ("O",) + CONFIGS:
            ttfb = [x[0] for x in s[c]]
            ttlb = [x[1] for x in s[c]]
            ratio = spread = target = ""
            if c in ("B", "C"):
                rs = [b[1] / a[1] for a, b in zip(s["A"], s[c])]
                r = statistics.median(rs)
                ratio = "%.3f" % r
                spread = "%.3f..%.3f" % (min(rs), max(rs))
                ok = r <= TARGET
                target = "met" if ok else "**missed**"
                verdict.append("%s %s/A = %.3f (%s)" % (name, c, r, "met" if ok else "missed"))
            elif c == "O":
                a_med = statistics.median(x[1] for x in s["A"])
                ratio = "(O/A %.3f)" % (statistics.median(ttlb) / a_med)
            out.append("| %s | %s %s | %s | %s | %s..%s | %s | %s | %s |" % (
                label, c, CONFIG_NAMES[c], ms(statistics.median(ttfb)), ms(statistics.median(ttlb)),
                ms(min(ttlb)), ms(max(ttlb)), ratio, spread, target))
    out.append("")
    out.append("per repetition, TTLB ms:")
    for name, _, _ in zips:
        for c in ("O",) + CONFIGS:
            out.append("  %s %s: %s" % (name, c, ", ".join(ms(x[1]) for x in samples[name][c])))
    out.append("")
    out.append("verdict: " + "; ".join(verdict))
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--modgate", required=True)
    p.add_argument("--fixture", default=os.environ.get(
        "MODGATE_FIXTURE_ORIGIN", os.path.expanduser("~/.cache/modgate-ci/fixture-origin")))
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--workdir")
    p.add_argument("--origin", choices=("nginx", "python"), default="nginx")
    p.add_argument("--origin-rate", type=int, default=0, metavar="BYTES_PER_S",
                   help="cap each origin response at this rate (a WAN-like origin); default 0: none")
    p.add_argument("--zip", action="append", default=[], metavar="MODULE@VERSION",
                   help="zip(s) to time (default: the fixture's biggest, and one near 10 MiB if any)")
    opts = p.parse_args()
    opts.modgate = os.path.abspath(opts.modgate)
    opts.workdir = opts.workdir or tempfile.mkdtemp(prefix="modgate-verify-cost-")
    os.makedirs(opts.workdir, exist_ok=True)
    sumdb = sumdb_env(opts.fixture)
    zips = pick_zips(opts.fixture, opts.zip)
    shas = {}
    for name, path, _ in zips:
        with open(os.path.join(opts.fixture, path.lstrip("/")), "rb") as f:
            shas[name] = hashlib.sha256(f.read()).hexdigest()
    load_start = loadavg()
    log("load average at start: %s; zips: %s" % (load_start, ", ".join("%s %d B" % (z[0], z[2]) for z in zips)))
    origin = Origin(opts.origin, opts.fixture, opts.workdir, opts.origin_rate)
    samples = {z[0]: {c: [] for c in ("O",) + CONFIGS} for z in zips}
    try:
        for rep in range(opts.reps):
            for name, path, _ in zips:
                status, ttfb, ttlb, body = fetch(origin.port, path)
                check_body("O", path, status, body, shas[name])
                samples[name]["O"].append((ttfb, ttlb))
                for c in CONFIGS:
                    samples[name][c].append(modgate_sample(opts, origin, c, path, shas[name], sumdb))
                log("rep %d/%d %s TTLB ms: %s" % (rep + 1, opts.reps, name, "  ".join(
                    "%s %s" % (c, ms(samples[name][c][-1][1])) for c in ("O",) + CONFIGS)))
    finally:
        stop(origin.proc)
    load_end = loadavg()
    print(report(zips, samples, opts, origin, load_start, load_end, sumdb))


if __name__ == "__main__":
    main()
