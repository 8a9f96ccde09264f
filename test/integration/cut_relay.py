#!/usr/bin/env python3
"""A TCP relay that cuts transfers short, to break a download between two
modgates (the go command's sidecar and an edge tier) at a known byte.

Every connection is relayed to --target. While fewer than --cut-connections
connections have been cut, a connection whose response stream (target to
client) passes --cut-after bytes is closed at exactly that byte, both ways;
later connections pass untouched. One line per connection goes to --log:
"<n> <bytes to client> cut|whole".
"""
import argparse
import os
import socket
import threading


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--target", required=True, help="host:port to relay to")
    p.add_argument("--port-file", required=True)
    p.add_argument("--cut-after", type=int, required=True)
    p.add_argument("--cut-connections", type=int, default=1)
    p.add_argument("--log", required=True)
    o = p.parse_args()
    host, port = o.target.rsplit(":", 1)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    tmp = o.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(listener.getsockname()[1]))
    os.rename(tmp, o.port_file)
    lock = threading.Lock()
    state = {"cut": 0, "n": 0}

    def log(line):
        with lock, open(o.log, "a") as f:
            f.write(line + "\n")

    def serve(client):
        with lock:
            state["n"] += 1
            n = state["n"]
        try:
            upstream = socket.create_connection((host, int(port)))
        except OSError:
            client.close()
            return
        done = threading.Event()

        def forward_request():
            try:
                while not done.is_set():
                    data = client.recv(65536)
                    if not data:
                        break
                    upstream.sendall(data)
            except OSError:
                pass

        threading.Thread(target=forward_request, daemon=True).start()
        sent = 0
        cut = False
        try:
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                with lock:
                    may_cut = state["cut"] < o.cut_connections
                if may_cut and sent + len(data) >= o.cut_after:
                    client.sendall(data[: o.cut_after - sent])
                    sent = o.cut_after
                    with lock:
                        state["cut"] += 1
                    cut = True
                    break
                client.sendall(data)
                sent += len(data)
        except OSError:
            pass
        done.set()
        for s in (client, upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        log("%d %d %s" % (n, sent, "cut" if cut else "whole"))

    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client,), daemon=True).start()


if __name__ == "__main__":
    main()
