#!/usr/bin/env python3
"""TLS downstream beside nginx (issue 11): modgate and nginx serving the same
certificate (a self-signed P-256 one made here with the openssl command),
one worker each (modgate --concurrency 1, nginx worker_processes 1), both
pinned to core 1, every client pinned to core 0. Measured:

  hs_*        handshakes/s with `openssl s_time` (h2load cannot be made to
              open a new connection per request): hs_full_tls13 and
              hs_full_tls12 a new session per connection, no request
              (handshake and close); hs_full_tls13_get the same plus one
              HTTP/1.0 GET of a warm .info; hs_resumed_tls13_get and
              hs_resumed_tls12 (-reuse) the first connection's session
              offered on every later one, the resumed count checked in
              s_time's output ('r' per resumed connection). TLS 1.3 sends its
              ticket after the handshake, so s_time can only resume it when
              it reads a response: hence the GET there.
  info_h2, info_h1, zip64k_h2, zip64k_h1
              warm .info and 64 KiB zips over TLS with h2 and http/1.1
              (ALPN), h2load over the 1000 small modules of gen_modules.py,
              the caches warmed first (over each server's plain port).

Server CPU per handshake / per request from /proc (utime+stime of the
server's processes over the run), as in bench.py. The warm runs go first,
then the handshake runs, hs_resumed_tls12 last: on modgate (3bd8df1) it
leaves every connection it served open until limits.max_connections wedges
the listeners, so nothing after it on that process would measure anything.
The sockets each server holds after each run are reported. Within each repetition the
servers alternate (nginx, modgate, nginx, modgate ...; the first one swaps
per repetition); the report gives medians and per-repetition ratios.
Target: modgate's rate >= nginx's, at no more server CPU per request.

  tls_bench.py --modgate BIN [--data DIR] [--reps 3] [--duration 5] [--workdir DIR]
              [--only zip64k_h2,info_h2,...]

Python 3 standard library only.
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree from importing bench.py
from bench import (CLIENT_CPU, HERE, HOST, SERVER_CPU, Modgate, Nginx, cpu_delta_s, free_port,  # noqa: E402
                   h2load, loadavg, log, settle, start_origin, url_lists, warm_up)

# (key, h2load URI list kind, h1, connections, streams per connection)
WARM = [
    ("info_h2", "info", False, 8, 32),
    ("info_h1", "info", True, 64, 1),
    ("zip64k_h2", "zip64k", False, 8, 32),
    ("zip64k_h1", "zip64k", True, 64, 1),
]
INFO_PATH = "/%s/m0000/@v/v1.0.0.info" % HOST
# (key, openssl s_time arguments). TLS 1.3 sends its session ticket after the
# handshake: s_time only has it to resume with when it reads a response, so
# TLS 1.3 resumption is timed with one HTTP/1.0 GET per connection (-www);
# TLS 1.2 resumes without one.
HANDSHAKES = [
    ("hs_full_tls13", ["-new"]),
    ("hs_full_tls13_get", ["-new", "-www", INFO_PATH]),
    ("hs_resumed_tls13_get", ["-reuse", "-www", INFO_PATH]),
    ("hs_full_tls12", ["-new", "-tls1_2"]),
    ("hs_resumed_tls12", ["-reuse", "-tls1_2"]),
]
KEYS = [w[0] for w in WARM] + [h[0] for h in HANDSHAKES]


def make_cert(d):
    """d/cert.pem, d/key.pem: a self-signed P-256 certificate for 127.0.0.1."""
    os.makedirs(d, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", os.path.join(d, "key.pem"), "-out", os.path.join(d, "cert.pem"),
                    "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")


class TlsModgate(Modgate):
    """bench.py's modgate plus a TLS listener (ALPN h2, http/1.1) on tls_port."""

    def __init__(self, workdir, upstream, binary, cert):
        super().__init__(workdir, upstream, 1, binary)
        self.tls_port = free_port()
        self.cert = cert

    def conf_text(self):
        listeners = ("listeners:\n"
                     "  - name: main\n"
                     "    address: 127.0.0.1:%d\n"
                     "  - name: tls\n"
                     "    address: 127.0.0.1:%d\n"
                     "    tls:\n"
                     "      certificates:\n"
                     "        - certificate_chain_file: %s\n"
                     "          private_key_file: %s\n" % ((self.port, self.tls_port) + self.cert))
        return super().conf_text() + listeners

    def listen_args(self):
        return []


# Replaces bench.py's h2c listener in its nginx.conf: TLS with h2 and
# http/1.1 by ALPN, a shared session cache and tickets (resumption).
NGINX_TLS_LISTEN = """listen 127.0.0.1:%(tls_port)d ssl http2;
    ssl_certificate %(cert)s;
    ssl_certificate_key %(key)s;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    ssl_session_tickets on;"""


class TlsNginx(Nginx):
    """bench.py's nginx (1 worker) with its h2c port turned into a TLS one."""

    def __init__(self, workdir, upstream, cert):
        super().__init__(workdir, upstream, 1)
        self.tls_port = self.h2c_port
        self.cert = cert

    def conf_text(self):
        text = super().conf_text()
        old = "listen 127.0.0.1:%d http2;" % self.h2c_port
        if old not in text:
            raise RuntimeError("bench.py's nginx.conf has no h2c listen line to replace")
        return text.replace(old, NGINX_TLS_LISTEN % dict(tls_port=self.tls_port, cert=self.cert[0],
                                                         key=self.cert[1]))


def tls_files(workdir, srv):
    """h2load URI files: bench.py's, with https://127.0.0.1:tls_port."""
    files = url_lists(workdir, srv)
    out = dict(files)
    for kind in ("info", "zip64k"):
        src = files[(kind, srv.port)]
        dst = src[:-len(".txt")] + "-tls.txt"
        with open(src) as f, open(dst, "w") as g:
            g.write(f.read().replace("http://127.0.0.1:%d/" % srv.port, "https://127.0.0.1:%d/" % srv.tls_port))
        out[(kind, "tls")] = dst
    return files, out


def warm_over_plain(files, srv):
    """Every .info and 64 KiB zip fetched once over the plain port (bench.py's
    warm_up: one GET per URI). Until 2026-12-07 this was h2load -c 16 -n N,
    whose connections each walk the URI list from its start: it fetched only
    the first N/16 URIs, so the "warm" runs were mostly misses."""
    warm_up(files, srv, ("info", "zip64k"))


def s_time(srv, args, duration):
    """openssl s_time against the TLS port: connections/s and server CPU us each."""
    cmd = ["taskset", "-c", CLIENT_CPU, "openssl", "s_time", "-connect", "127.0.0.1:%d" % srv.tls_port,
           "-time", str(duration)] + args
    before = srv.cpu_ticks()
    t = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    wall = time.monotonic() - t
    after = srv.cpu_ticks()
    r = {"cmd": " ".join(cmd), "cpu_s": cpu_delta_s(before, after)}
    m = re.search(r"(\d+) connections in (\d+) real seconds", out)
    n = int(m.group(1)) if m else 0
    r["conns"] = n
    r["req_s"] = n / wall if n else 0.0  # s_time prints whole seconds only
    r["wall_s"] = wall
    r["cpu_us_per_req"] = r["cpu_s"] * 1e6 / n if n else None
    m = re.search(r"(\d+) bytes read per connection", out)
    r["bytes_per_conn"] = int(m.group(1)) if m else None
    if "-www" in args and not r["bytes_per_conn"]:
        r["problem"] = "no response read:\n" + out[-800:]
    if "-reuse" in args:
        # One line of progress characters: '*' new session, 'r' resumed.
        prog = "".join(l for l in out.splitlines() if l and set(l) <= set("*r"))
        r["resumed"] = prog.count("r")
        r["new"] = prog.count("*")
        if not r["resumed"] or r["new"] > 2:
            r["problem"] = "not resumed: %d new, %d resumed\n%s" % (r["new"], r["resumed"], out[-800:])
    if not n:
        r["problem"] = out[-1500:]
    return r


def tls_h2load(srv, files, kind, h1, conns, streams, duration, origin_log):
    """bench.py's h2load() on the TLS URI list; checks the ALPN protocol, and
    that the run was warm (no request reached the origin)."""
    r = h2load(srv, {(kind, srv.port if h1 else srv.h2c_port): files[(kind, "tls")]}, kind, h1, conns,
               streams, duration, origin_log)
    if not h1 and r.get("problem", "").startswith("not h2c"):
        # bench.py wants h2c; here ALPN must have picked h2.
        if "Application protocol: h2\n" in r["problem"]:
            del r["problem"]
    if r["origin_requests"] and "problem" not in r:
        r["problem"] = "not warm: %d requests reached the origin" % r["origin_requests"]
    return r


def run_rep(rep, opts, origin_url, origin_log, cert):
    base = os.path.join(opts.workdir, "rep%d" % rep)
    shutil.rmtree(base, ignore_errors=True)
    mg = TlsModgate(os.path.join(base, "modgate"), origin_url, opts.modgate, cert)
    ng = TlsNginx(os.path.join(base, "nginx"), origin_url, cert)
    servers = [ng, mg] if rep % 2 == 0 else [mg, ng]
    res = {s.name: {} for s in servers}
    try:
        files = {}
        for s in servers:
            os.makedirs(s.dir, exist_ok=True)
            s.start()
            plain, files[s.name] = tls_files(base, s)
            warm_over_plain(plain, s)
            settle(s)
        for key, kind, h1, conns, streams in WARM:
            if key not in opts.only:
                continue
            for s in servers:
                res[s.name][key] = r = tls_h2load(s, files[s.name], kind, h1, conns, streams, opts.duration,
                                                      origin_log)
                survived(s, key, r)
                log("rep %d: %-20s %-7s %8.0f req/s %7.1f MiB/s cpu %s us/req%s" % (
                    rep, key, s.name, r["req_s"], r["mib_s"],
                    "%.1f" % r["cpu_us_per_req"] if r["cpu_us_per_req"] else "-",
                    "  PROBLEM " + r["problem"][-400:] if "problem" in r else ""))
        # After the warm runs: hs_resumed_tls12 (last) has left modgate holding
        # every connection it served, wedged at limits.max_connections.
        for key, args in HANDSHAKES:
            if key not in opts.only:
                continue
            for s in servers:
                res[s.name][key] = r = s_time(s, args, opts.duration)
                survived(s, key, r)
                log("rep %d: %-20s %-7s %8.0f /s  cpu %s us each, %s bytes read each, %d sockets open after%s" % (
                    rep, key, s.name, r["req_s"], "%.0f" % r["cpu_us_per_req"] if r["cpu_us_per_req"] else "-",
                    r["bytes_per_conn"], r["sockets_open"],
                    "  PROBLEM " + r["problem"][-400:] if "problem" in r else ""))
    finally:
        for s in servers:
            s.stop()
            res[s.name]["incidents"] = s.incidents
    return res


def sockets_open(srv):
    """Socket descriptors the server's processes hold (listeners included)."""
    n = 0
    for pid in srv.pids():
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:")
            except OSError:
                pass
    return n


def survived(srv, key, r):
    """bench.py's check(): a server that exited is recorded and restarted on its
    warm cache. Also counts the sockets it still holds (a leak shows here)."""
    r["sockets_open"] = sockets_open(srv)
    if not srv.check(key):
        r["problem"] = "%s exited during %s" % (srv.name, key)


def report(reps, opts, load_start, load_end):
    out = ["modgate %s (--concurrency 1) and nginx %s (worker_processes 1), both on core %s; "
           "clients on core %s; %d repetitions x %d s per measurement" % (
               opts.modgate, nginx_version(), SERVER_CPU, CLIENT_CPU, len(reps), opts.duration),
           "load average (1/5/15 min): start %s, end %s" % (load_start, load_end), "",
           "| measurement | modgate /s | nginx /s | ratio /s (median, per-rep) | modgate CPU us | "
           "nginx CPU us | ratio CPU (median, per-rep) | target |",
           "|---|---:|---:|---:|---:|---:|---:|---|"]
    verdicts = []
    for key in opts.only:
        # Medians and ratios over the repetitions where neither server had a problem.
        pairs = [(r["modgate"][key], r["nginx"][key]) for r in reps
                 if "problem" not in r["modgate"][key] and "problem" not in r["nginx"][key]]
        dropped = " (%d of %d repetitions dropped: a problem)" % (len(reps) - len(pairs), len(reps)) \
            if len(pairs) < len(reps) else ""
        if not pairs:
            verdicts.append("%s not measured" % key)
            out.append("| %s | - | - | - | - | - | - | not measured%s |" % (key, dropped))
            continue
        mg = [a for a, _ in pairs]
        ng = [b for _, b in pairs]
        rate = [a["req_s"] / b["req_s"] for a, b in pairs]
        cpu = [a["cpu_us_per_req"] / b["cpu_us_per_req"] for a, b in pairs]
        med = statistics.median
        met = med(rate) >= 1.0 and med(cpu) <= 1.0
        verdicts.append("%s %s" % (key, "met" if met else "missed"))
        out.append("| %s | %.0f | %.0f | %.2f (%s) | %.1f | %.1f | %.2f (%s) | %s%s |" % (
            key, med(x["req_s"] for x in mg), med(x["req_s"] for x in ng), med(rate),
            ", ".join("%.2f" % v for v in rate),
            med(x["cpu_us_per_req"] for x in mg), med(x["cpu_us_per_req"] for x in ng), med(cpu),
            ", ".join("%.2f" % v for v in cpu), "met" if met else "**missed**", dropped))
    out += ["", "verdict: " + "; ".join(verdicts)]
    incidents = ["rep %d: %s" % (i, line) for i, r in enumerate(reps) for name in ("modgate", "nginx")
                 for line in r[name]["incidents"]]
    out += ["", "server exits (each restarted on its warm cache): %d" % len(incidents)] + incidents
    out += ["", "sockets held by each server after each handshake run, per repetition:"]
    for key in [h[0] for h in HANDSHAKES if h[0] in opts.only]:
        for name in ("modgate", "nginx"):
            out.append("  %s %s: %s" % (key, name, ", ".join(str(r[name][key]["sockets_open"]) for r in reps)))
    out += ["", "commands (last repetition):"]
    for key in opts.only:
        for name in ("modgate", "nginx"):
            out.append("  %s %s: %s" % (key, name, reps[-1][name][key]["cmd"]))
    return "\n".join(out)


def nginx_version():
    return subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--modgate", required=True)
    p.add_argument("--data", help="gen_modules.py tree (written if missing); default WORKDIR/data")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--duration", type=int, default=5)
    p.add_argument("--workdir")
    p.add_argument("--only", help="comma-separated measurements (%s); default all" % ",".join(KEYS))
    opts = p.parse_args()
    if opts.only is not None:
        unknown = set(opts.only.split(",")) - set(KEYS)
        if unknown:
            p.error("--only: unknown %s" % ", ".join(sorted(unknown)))
    opts.only = [k for k in KEYS if opts.only is None or k in opts.only.split(",")]
    # SIGTERM unwinds through the finally blocks, which stop the servers and the origin.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("tls_bench: terminated"))
    opts.modgate = os.path.abspath(opts.modgate)
    opts.workdir = opts.workdir or tempfile.mkdtemp(prefix="modgate-tls-bench-")
    os.makedirs(opts.workdir, exist_ok=True)
    opts.data = opts.data or os.path.join(opts.workdir, "data")
    subprocess.run([sys.executable, os.path.join(HERE, "gen_modules.py"), opts.data], check=True,
                   stdout=subprocess.DEVNULL)
    cert = make_cert(os.path.join(opts.workdir, "pki"))
    origin_log = os.path.join(opts.workdir, "origin.log")
    open(origin_log, "w").close()
    origin, origin_url = start_origin(opts.workdir, opts.data, ["--log", origin_log])
    load_start = loadavg()
    log("load average at start: %s" % load_start)
    reps = []
    try:
        for rep in range(opts.reps):
            reps.append(run_rep(rep, opts, origin_url, origin_log, cert))
    finally:
        origin.terminate()
        origin.wait()
    load_end = loadavg()
    print(report(reps, opts, load_start, load_end))


if __name__ == "__main__":
    main()
