#!/usr/bin/env python3
"""Clients that read slowly or not at all, for slow_reader_test.sh.

  slow_reader.py stall-h1 PORT PATH      GET over HTTP/1.1, read 64 KiB, then stop
                                         reading; print "port N" at once, and when
                                         told on stdin ("drain"), read what is left
                                         and print "received N end=eof|reset".
  slow_reader.py slow-h1 PORT PATH RATE  GET over HTTP/1.1 read at RATE bytes/s; prints
                                         "received N seconds S".
  slow_reader.py stall-h2 PORT PATH      h2c prior knowledge, read the headers and the
                                         first flow-control window, never send
                                         WINDOW_UPDATE, keep reading the socket; prints
                                         "received N end=eof|goaway|reset seconds S"
                                         when the server ends the connection.
  slow_reader.py pipeline PORT PATH N    N GETs in one write; prints the number of
                                         responses before the close and whether the
                                         last said "connection: close".
Every wait is bounded (a deadline of minutes, never a timing assertion).
"""
import socket
import sys
import time

DEADLINE = 240


def connect(port, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    return s


def request(path):
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow-reader\r\n\r\n" % path).encode()


def read_all(s, limit_seconds=DEADLINE):
    n, end = 0, "eof"
    s.settimeout(limit_seconds)
    try:
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            n += len(b)
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "timeout"
    return n, end


def stall_h1(port, path):
    s = connect(port, rcvbuf=64 * 1024)
    s.sendall(request(path))
    got = 0
    while got < 64 * 1024:
        b = s.recv(65536)
        if not b:
            break
        got += len(b)
    print("port %d" % s.getsockname()[1], flush=True)
    sys.stdin.readline()  # the test saw modgate close it
    n, end = read_all(s)
    print("received %d end=%s" % (got + n, end), flush=True)


def slow_h1(port, path, rate):
    s = connect(port)
    s.sendall(request(path))
    start = time.monotonic()
    n, end = 0, "eof"
    s.settimeout(DEADLINE)
    head = b""
    length = None
    try:
        while True:
            b = s.recv(16384)
            if not b:
                break
            if length is None:
                head += b
                if b"\r\n\r\n" in head:
                    h, rest = head.split(b"\r\n\r\n", 1)
                    for line in h.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":")[1])
                    n = len(rest)
            else:
                n += len(b)
            if length is not None and n >= length:
                break
            # Pace: never ahead of RATE bytes per second.
            ahead = n / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
    except ConnectionResetError:
        end = "reset"
    print("received %d of %s end=%s seconds %.1f" % (n, length, end, time.monotonic() - start), flush=True)


def stall_h2(port, path):
    import h2.config
    import h2.connection
    import h2.events

    s = connect(port)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":authority", "127.0.0.1"),
                          (":path", path)], end_stream=True)
    s.sendall(conn.data_to_send())
    start = time.monotonic()
    received, end = 0, "timeout"
    s.settimeout(DEADLINE)
    try:
        while time.monotonic() - start < DEADLINE:
            b = s.recv(65536)
            if not b:
                end = "eof"
                break
            events = conn.receive_data(b)
            for e in events:
                if isinstance(e, h2.events.DataReceived):
                    received += len(e.data)  # never acknowledged: no WINDOW_UPDATE
                elif isinstance(e, h2.events.ConnectionTerminated):
                    end = "goaway"
                elif isinstance(e, h2.events.StreamReset):
                    end = "reset"
            out = conn.data_to_send()  # SETTINGS and PING acks only
            if out:
                s.sendall(out)
            if end in ("goaway", "reset"):
                break
    except ConnectionResetError:
        end = "eof"
    print("received %d end=%s seconds %.1f" % (received, end, time.monotonic() - start), flush=True)


def pipeline(port, path, count):
    s = connect(port)
    s.sendall(request(path) * count)
    data = b""
    s.settimeout(DEADLINE)
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except ConnectionResetError:
        pass
    heads = [h for h in data.split(b"HTTP/1.1 ")[1:]]
    last_close = bool(heads) and b"connection: close" in heads[-1].lower()
    print("responses %d last_close=%s" % (len(heads), last_close), flush=True)


if __name__ == "__main__":
    mode, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "stall-h1":
        stall_h1(port, path)
    elif mode == "slow-h1":
        slow_h1(port, path, float(sys.argv[4]))
    elif mode == "stall-h2":
        stall_h2(port, path)
    elif mode == "pipeline":
        pipeline(port, path, int(sys.argv[4]))
