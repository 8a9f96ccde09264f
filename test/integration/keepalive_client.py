#!/usr/bin/env python3
"""One TLS keep-alive connection that asks twice, with a pause between.

    keepalive_client.py PORT CAFILE PATH GO_FILE [CERT KEY]

Sends GET PATH, prints "first <status> <subject CN of the server cert>",
waits until GO_FILE exists (at most 120 s), sends GET PATH again on the
same connection and prints "second <status>". Used to check that a
certificate swap or a reload leaves open connections alone.
"""
import os
import socket
import ssl
import sys
import time


def read_response(tls):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(65536)
        if not chunk:
            raise SystemExit("connection closed before response headers")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = tls.recv(65536)
        if not chunk:
            raise SystemExit("connection closed mid-body")
        body += chunk
    return status


def main():
    port, cafile, path, go_file = sys.argv[1:5]
    context = ssl.create_default_context(cafile=cafile)
    context.set_alpn_protocols(["http/1.1"])
    if len(sys.argv) > 6:
        context.load_cert_chain(sys.argv[5], sys.argv[6])
    raw = socket.create_connection(("127.0.0.1", int(port)), timeout=60)
    tls = context.wrap_socket(raw, server_hostname="localhost")
    request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()
    tls.sendall(request)
    subject = dict(x[0] for x in tls.getpeercert()["subject"]).get("commonName", "")
    print("first", read_response(tls), subject, flush=True)
    deadline = time.time() + 120
    while not os.path.exists(go_file) and time.time() < deadline:
        time.sleep(0.1)
    tls.sendall(request)
    print("second", read_response(tls), flush=True)


if __name__ == "__main__":
    main()
