#!/usr/bin/python3
"""Many-connection slowloris for slowloris_test.sh.

    slowloris.py PORT CONNECTIONS DEADLINE_SECONDS [SOURCE_ADDRESS]

Opens CONNECTIONS connections (from SOURCE_ADDRESS, default 127.0.0.1) and
sends on each one byte of an endless request header every second, as
slowloris does, until the server has closed every one of them or the
deadline passes. Prints one line:

    opened <n> closed <n> open <n> answered <n>

closed: connections the server ended (EOF or reset, including those closed
at accept); open: still open at the deadline (a failed defence); answered:
connections on which the server sent bytes before closing (e.g. a 408).
"""
import socket
import sys
import time

HEADER = b"GET /github.com/google/uuid/@v/v1.3.0.info HTTP/1.1\r\nHost: localhost\r\nX-Slow: "


def main():
    port, count, deadline_s = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    source = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"
    deadline = time.monotonic() + deadline_s
    conns = []  # {"sock", "pos": header bytes sent, "answered": the server sent bytes}
    closed = answered = 0
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((source, 0))
        try:
            sock.connect(("127.0.0.1", port))
        except OSError:
            closed += 1
            sock.close()
            continue
        sock.setblocking(False)
        conns.append({"sock": sock, "pos": 0, "answered": False})
    while conns and time.monotonic() < deadline:
        still = []
        for conn in conns:
            sock = conn["sock"]
            ended = False
            try:
                while True:
                    data = sock.recv(4096)
                    if not data:
                        ended = True
                        break
                    conn["answered"] = True
            except BlockingIOError:
                pass
            except OSError:
                ended = True
            if not ended:
                byte = HEADER[conn["pos"]:conn["pos"] + 1] or b"x"
                try:
                    conn["pos"] += sock.send(byte)
                except BlockingIOError:
                    pass
                except OSError:
                    ended = True
            if ended:
                closed += 1
                answered += conn["answered"]
                sock.close()
            else:
                still.append(conn)
        conns = still
        if conns:
            time.sleep(1)
    print("opened %d closed %d open %d answered %d" % (count, closed, len(conns), answered),
          flush=True)
    for conn in conns:
        conn["sock"].close()

if __name__ == "__main__":
    main()
