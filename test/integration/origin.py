#!/usr/bin/env python3
"""A static GOPROXY origin for modgate's integration tests.

Serves a fixture directory in GOPROXY layout (the tree that
/work/shared/fixtures/make-origin.sh writes) over plain HTTP/1.1 with
keep-alive and Content-Length, the way a simple static file server or a
CDN in front of a module mirror would:

  /<escaped module>/@v/list|<v>.info|<v>.mod|<v>.zip, /<module>/@latest,
  /sumdb/<name>/{supported,latest,lookup/...,tile/...}

Percent-escapes are decoded once (so %21 becomes '!'), '+' is kept as is.
A single-range "Range: bytes=N-" or "bytes=N-M" is answered 206 with
Content-Range (416 past the end), honouring a strong "If-Range: <etag>"
(any other validator, or a different ETag, gets the whole file: 200).
Anything that is not a regular file under the root is a 404 with a
text/plain body; methods other than GET and HEAD are a 405.

Knobs the tests use:
  --log FILE        one line per request: "METHOD RAW-PATH STATUS BYTES"
                    (RAW-PATH exactly as received), flushed at once, so a
                    test can count how often the proxy asked for a path;
                    logged once the answer is sent, while FILE.start gets
                    "METHOD RAW-PATH" as each request arrives
  --delay-ms N      sleep N ms before answering each request
  --rate B          send bodies at about B bytes per second
  --fail-status S   answer every request (or those matching --fail-regex,
                    or only while --fail-file exists) with status S
  --port 0 --port-file F   bind a free port and write it to F (atomically)
  --cut-after N     a full (200) .zip answer closes the connection after N
                    body bytes (an origin dying mid-transfer)
  --stall-after N   a full (200) .zip answer stops after N body bytes and
                    holds the connection open, sending nothing more
  --etag-salt S     mix S into the ETags (another origin's copy of the files)
  --no-range        ignore Range requests (always answer 200 in full)
  --conn-log FILE   one line per connection accepted and closed: "open PORT"
                    / "close PORT" (the client's port), in order, so a test
                    can tell how many connections were open at once

Python 3 standard library only. Exits 0 on SIGTERM or SIGINT.
"""

import argparse
import email.utils
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def content_type_for(rel):
    name = rel.rsplit("/", 1)[-1]
    if rel.startswith("sumdb/"):
        if "/tile/" in rel:
            return "application/octet-stream"
        return "text/plain; charset=utf-8"
    if name.endswith(".info") or name == "@latest":
        return "application/json"
    if name.endswith(".zip"):
        return "application/zip"
    return "text/plain; charset=utf-8"


class OriginServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 drops connections when a test opens dozens at once.
    request_queue_size = 256

    def __init__(self, addr, handler, opts):
        self.opts = opts
        self.root = os.path.realpath(opts.root)
        self.log_lock = threading.Lock()
        self.log_file = open(opts.log, "a", buffering=1) if opts.log else None
        self.start_log = open(opts.log + ".start", "a", buffering=1) if opts.log else None
        self.fail_regex = re.compile(opts.fail_regex) if opts.fail_regex else None
        self.conn_log = open(opts.conn_log, "a", buffering=1) if opts.conn_log else None
        super().__init__(addr, handler)

    def log_connection(self, event, client_address):
        if not self.conn_log:
            return
        with self.log_lock:
            self.conn_log.write("%s %d\n" % (event, client_address[1]))
            self.conn_log.flush()

    def log_request_start(self, method, raw_path):
        if not self.start_log:
            return
        with self.log_lock:
            self.start_log.write("%s %s\n" % (method, raw_path))
            self.start_log.flush()

    def log_request_line(self, method, raw_path, status, nbytes):
        if not self.log_file:
            return
        with self.log_lock:
            self.log_file.write("%s %s %d %d\n" % (method, raw_path, status, nbytes))
            self.log_file.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fixture-origin/1"
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 120

    # Quiet by default: the request log file is the record.
    def log_message(self, fmt, *args):
        if self.server.opts.verbose:
            sys.stderr.write("origin: %s\n" % (fmt % args))

    def setup(self):
        super().setup()
        self.server.log_connection("open", self.client_address)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.log_connection("close", self.client_address)

    # ---- helpers -------------------------------------------------------
    def _send_text(self, status, text, extra_headers=()):
        body = (text.rstrip("\n") + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        sent = 0
        if self.command != "HEAD":
            self.wfile.write(body)
            sent = len(body)
        self.server.log_request_line(self.command, self.path, status, sent)

    def _resolve(self, raw_path):
        """Map a request path to a file under the root, or None."""
        path = raw_path.split("?", 1)[0].split("#", 1)[0]
        try:
            path = urllib.parse.unquote(path, errors="strict")
        except UnicodeDecodeError:
            return None
        if not path.startswith("/") or "\x00" in path:
            return None
        parts = path[1:].split("/")
        if any(p in ("", ".", "..") for p in parts):
            return None
        rel = "/".join(parts)
        full = os.path.realpath(os.path.join(self.server.root, rel))
        if not full.startswith(self.server.root + os.sep):
            return None
        if not os.path.isfile(full):
            return None
        return rel, full

    def _should_fail(self):
        o = self.server.opts
        if not o.fail_status:
            return False
        if o.fail_file and not os.path.exists(o.fail_file):
            return False
        if self.server.fail_regex and not self.server.fail_regex.search(self.path):
            return False
        return True

    def _send_body(self, f, size, limit=None):
        """Sends `size` bytes of f, or only `limit` of them when set."""
        rate = self.server.opts.rate
        chunk = 64 * 1024
        if rate > 0:
            chunk = max(1024, min(chunk, rate // 20))
        if limit is not None:
            size = min(size, limit)
        start = time.monotonic()
        sent = 0
        while sent < size:
            data = f.read(min(chunk, size - sent))
            if not data:
                break
            self.wfile.write(data)
            sent += len(data)
            if rate > 0:
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
        return sent

    # ---- methods -------------------------------------------------------
    def do_GET(self):
        o = self.server.opts
        if o.delay_ms > 0:
            time.sleep(o.delay_ms / 1000.0)
        if self._should_fail():
            self._send_text(o.fail_status, "origin: failing on purpose (--fail-status %d)" % o.fail_status)
            return
        found = self._resolve(self.path)
        if found is None:
            self._send_text(404, "not found: %s" % self.path.split("?", 1)[0])
            return
        rel, full = found
        st = os.stat(full)
        etag = '"%x-%x%s"' % (st.st_size, int(st.st_mtime_ns), o.etag_salt)
        last_modified = email.utils.formatdate(st.st_mtime, usegmt=True)
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.server.log_request_line(self.command, self.path, 304, 0)
            return
        byte_range = None if o.no_range else self._range(st.st_size, etag)
        if byte_range == "unsatisfiable":
            self.send_response(416)
            self.send_header("Content-Range", "bytes */%d" % st.st_size)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.server.log_request_line(self.command, self.path, 416, 0)
            return
        status, first, length = 200, 0, st.st_size
        if byte_range is not None:
            status, (first, last) = 206, byte_range
            length = last - first + 1
        self.send_response(status)
        self.send_header("Content-Type", content_type_for(rel))
        self.send_header("Content-Length", str(length))
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (first, first + length - 1, st.st_size))
        if not o.no_range:
            self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.end_headers()
        sent = 0
        fault = status == 200 and rel.endswith(".zip") and (o.cut_after or o.stall_after)
        if self.command != "HEAD":
            with open(full, "rb") as f:
                f.seek(first)
                sent = self._send_body(f, length, (o.cut_after or o.stall_after) if fault else None)
        self.server.log_request_line(self.command, self.path, status, sent)
        if fault and sent < length:
            self.wfile.flush()
            if o.stall_after:
                # Hold the connection open with nothing more to send, until
                # the client gives up (or the origin is stopped).
                self.connection.settimeout(None)
                while self.connection.recv(65536):
                    pass
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _range(self, size, etag):
        """(first, last) for a satisfiable single byte range, "unsatisfiable",
        or None to answer in full."""
        spec = self.headers.get("Range")
        if not spec:
            return None
        if_range = self.headers.get("If-Range")
        if if_range is not None and (if_range != etag or if_range.startswith("W/")):
            return None
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", spec.strip())
        if not m:
            return None
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else size - 1
        if first >= size:
            return "unsatisfiable"
        if last < first:
            return None
        return first, min(last, size - 1)

    def do_HEAD(self):
        self.do_GET()

    def _method_not_allowed(self):
        # Drain a request body so the connection stays usable.
        n = int(self.headers.get("Content-Length") or 0)
        if 0 < n <= 1 << 20:
            self.rfile.read(n)
        self._send_text(405, "method %s not allowed: the origin serves GET and HEAD" % self.command,
                        [("Allow", "GET, HEAD")])

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _method_not_allowed

    def parse_request(self):
        ok = super().parse_request()
        if ok:
            self.server.log_request_start(self.command, self.path)
        return ok

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", required=True, help="fixture directory in GOPROXY layout")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--port-file", help="write the bound port here")
    p.add_argument("--log", help="append one line per request here")
    p.add_argument("--conn-log", help="append one line per connection opened and closed here")
    p.add_argument("--cut-after", type=int, default=0,
                   help="close a full .zip answer's connection after this many body bytes")
    p.add_argument("--stall-after", type=int, default=0,
                   help="stop a full .zip answer after this many body bytes, keeping the connection")
    p.add_argument("--etag-salt", default="", help="mixed into every ETag")
    p.add_argument("--no-range", action="store_true", help="ignore Range headers")
    p.add_argument("--delay-ms", type=int, default=0)
    p.add_argument("--rate", type=int, default=0, help="body bytes per second (0: unlimited)")
    p.add_argument("--fail-status", type=int, default=0)
    p.add_argument("--fail-regex", help="with --fail-status: only paths matching this regex")
    p.add_argument("--fail-file", help="with --fail-status: only while this file exists")
    p.add_argument("--verbose", action="store_true", help="log requests to stderr too")
    opts = p.parse_args()

    if not os.path.isdir(opts.root):
        p.error("--root %s is not a directory" % opts.root)

    server = OriginServer((opts.host, opts.port), Handler, opts)
    port = server.server_address[1]
    if opts.port_file:
        tmp = opts.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, opts.port_file)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write("origin: serving %s on http://%s:%d\n" % (opts.root, opts.host, port))
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
