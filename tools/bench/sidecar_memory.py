#!/usr/bin/env python3
"""Memory of one modgate in the sidecar profile (issue 12): --concurrency 1,
default config, the test fixture origin (test/integration/origin.py) as the
upstream. Prints VmRSS / VmHWM (KiB) at each step:

  idle          just started, nothing asked
  cold go       after `go mod download` of every fixture module version
                through it, cold (VmHWM: the peak during the download)
  warm 5000     after 5000 GETs of every cached .info/.mod/list (hits)
  h2 zip x20    after 20 concurrent h2c downloads of the 31 MB fixture zip
                (nghttp), warm: the HTTP/2 file path

Memory numbers hold on a busy machine; no timing is measured.
  sidecar_memory.py --modgate BIN --fixture DIR [--workdir DIR]
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ORIGIN_PY = os.path.join(HERE, "..", "..", "test", "integration", "origin.py")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class PeakSampler:
    """Peak RssAnon and RssFile of a process, sampled every 10 ms (VmHWM has only their sum)."""

    def __init__(self, pid):
        self.pid = pid
        self.anon = self.file = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.wait(0.01):
            try:
                self.anon = max(self.anon, status_kib(self.pid, "RssAnon"))
                self.file = max(self.file, status_kib(self.pid, "RssFile"))
            except OSError:
                return

    def finish(self):
        self.stop.set()
        self.thread.join()
        return self.anon, self.file


def wait_http(url, secs=60):
    deadline = time.time() + secs
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.1)
    sys.exit("not ready: " + url)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--modgate", required=True)
    p.add_argument("--fixture", required=True)
    p.add_argument("--workdir")
    o = p.parse_args()
    work = o.workdir or tempfile.mkdtemp(prefix="modgate-mem-")
    procs = []
    try:
        port_file = os.path.join(work, "origin.port")
        procs.append(subprocess.Popen(
            [sys.executable, ORIGIN_PY, "--root", o.fixture, "--port", "0", "--port-file", port_file],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        while not os.path.exists(port_file):
            time.sleep(0.05)
        origin = "http://127.0.0.1:" + open(port_file).read().strip()
        port, admin = free_port(), free_port()
        mg = subprocess.Popen([o.modgate, "--listen", "127.0.0.1:%d" % port, "--admin",
                               "127.0.0.1:%d" % admin, "--upstream", origin, "--cache-dir",
                               os.path.join(work, "cache"), "--concurrency", "1", "--no-watch"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(mg)
        proxy = "http://127.0.0.1:%d" % port
        wait_http("http://127.0.0.1:%d/ready" % admin)
        time.sleep(1)

        sampler = [PeakSampler(mg.pid)]

        def report(step):
            anon, file = sampler[0].finish()
            print("%-12s VmRSS %6d KiB  VmHWM %6d KiB  RssAnon %6d KiB  RssFile %6d KiB  "
                  "step peak RssAnon %6d KiB  RssFile %6d KiB" %
                  (step, status_kib(mg.pid, "VmRSS"), status_kib(mg.pid, "VmHWM"),
                   status_kib(mg.pid, "RssAnon"), status_kib(mg.pid, "RssFile"), anon, file),
                  flush=True)
            sampler[0] = PeakSampler(mg.pid)

        report("idle")
        # Every module version of the fixture, as the go command fetches them.
        mods = []
        with open(os.path.join(o.fixture, "manifest.txt")) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                mod, ver = line.split()[:2]
                mods.append("%s@%s" % (mod, ver))
        gohome = os.path.join(work, "go")
        os.makedirs(os.path.join(gohome, "work"), exist_ok=True)
        env = dict(os.environ, GOPATH=os.path.join(gohome, "path"),
                   GOMODCACHE=os.path.join(gohome, "path", "pkg", "mod"),
                   GOCACHE=os.path.join(gohome, "cache"), HOME=gohome, GOPROXY=proxy,
                   GOFLAGS="-mod=mod", GOENV="off", GONOSUMDB="", GOPRIVATE="",
                   GOSUMDB="off", GOTOOLCHAIN="local")
        subprocess.run(["go", "mod", "download"] + mods, cwd=os.path.join(gohome, "work"),
                       env=env, check=True, stdout=subprocess.DEVNULL)
        report("cold go")
        # Hits on every small object the download cached.
        small = []
        for mv in mods:
            mod, ver = mv.split("@")
            esc = "".join("!" + c.lower() if c.isupper() else c for c in mod)
            small += ["/%s/@v/%s.info" % (esc, ver), "/%s/@v/%s.mod" % (esc, ver),
                      "/%s/@v/list" % esc]
        n = 0
        while n < 5000:
            for path in small:
                with urllib.request.urlopen(proxy + path.replace("!", "%21"), timeout=30) as r:
                    r.read()
                n += 1
                if n >= 5000:
                    break
        report("warm 5000")
        zip_url = proxy + "/example.com/fixtures/large/@v/v1.0.0.zip"
        clients = [subprocess.Popen(["nghttp", "-n", zip_url]) for _ in range(20)]
        for c in clients:
            c.wait()
        report("h2 zip x20")
    finally:
        for pr in procs:
            pr.terminate()
            pr.wait()
        if not o.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
