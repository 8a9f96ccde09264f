#!/usr/bin/env python3
"""A scriptable HTTP/1.1 origin for modgate's upstream client tests.

Raw sockets (no http.server) so that framing, keep-alive and misbehaviour are
under exact control. One thread per connection. Paths:

  /hello                 200, content-length, keep-alive
  /count                 body: number of connections accepted so far
  /echo                  body: the request head as received
  /chunked?n=K           K chunks
  /close                 no content-length: body until close
  /conn-close[?ms=N]     content-length + "connection: close" (after N ms)
  /http10                HTTP/1.0 response with content-length (not reusable)
  /drop-next             200 keep-alive; the next request on this connection
                         is answered by closing it
  /reset-mid             headers promise 1000 bytes, 10 are sent, then close
  /slow-headers?ms=N     waits N ms before answering
  /slow-body?ms=N        headers + 5 bytes, waits N ms, 5 more bytes
  /big?size=N            N bytes of pattern (i % 251), content-length
  /big-chunked?size=N    same, chunked in 64 KiB chunks
  /no-body               204;  /not-modified: 304 with content-length 1234
  /continue              100 Continue, then 200 "ok"
  /huge-headers          100 KiB of headers
  /garbage               not HTTP
  /r/rel                 302 Location: target (relative) -> /r/target
  /r/target              200 "target"
  /r/abs                 301 Location: http://<host>/hello, with a body
  /r/loop                302 Location: /r/loop
  /r/chain?n=K           K redirects then /hello
  /r/to?u=URL            302 Location: URL (percent-decoded)
  /r/dots                302 Location: ./a/../../hello
HEAD gets the GET head without a body.

Options: --port-file F (bind 127.0.0.1:0 and write the port), --cert/--key
(TLS), --alpn h2,http/1.1.
"""

import argparse
import os
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse

lock = threading.Lock()
connections = 0


def pattern(offset, length):
    base = bytes(i % 251 for i in range(251))
    start = offset % 251
    out = bytearray()
    first = base[start:]
    out += first[:length]
    while len(out) < length:
        out += base[: length - len(out)]
    return bytes(out)


def read_head(conn, buf):
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            return None, buf
        buf += data
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def response(status, reason, headers, body=b"", head=False):
    lines = ["HTTP/1.1 %d %s" % (status, reason)]
    lines += ["%s: %s" % (k, v) for k, v in headers]
    out = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return out if head else out + body


def handle(conn, port):
    buf = b""
    drop_next = False
    conn.settimeout(60)
    while True:
        head, buf = read_head(conn, buf)
        if head is None:
            return
        if drop_next:
            return
        request_line = head.split("\r\n", 1)[0]
        method, target, _ = request_line.split(" ", 2)
        is_head = method == "HEAD"
        url = urllib.parse.urlsplit(target)
        path = url.path
        query = urllib.parse.parse_qs(url.query)
        host = "127.0.0.1:%d" % port
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "host":
                host = value.strip()

        def send(data):
            conn.sendall(data)

        def ok(body, extra=()):
            send(response(200, "OK", [("Content-Length", len(body))] + list(extra), body, is_head))

        if path == "/hello":
            ok(b"hello\n", [("Content-Type", "text/plain"), ("X-Mixed-Case", "Yes")])
        elif path == "/count":
            with lock:
                ok(str(connections).encode())
        elif path == "/echo":
            ok(head.encode("latin-1"))
        elif path == "/chunked":
            n = int(query.get("n", ["3"])[0])
            send(response(200, "OK", [("Transfer-Encoding", "chunked")], b"", True))
            for i in range(n):
                piece = ("chunk%d;" % i).encode()
                send(b"%x\r\n%s\r\n" % (len(piece), piece))
            send(b"0\r\n\r\n")
        elif path == "/close":
            send(response(200, "OK", [("Connection", "close")], b"until-close body", is_head))
            return
        elif path == "/conn-close":
            time.sleep(int(query.get("ms", ["0"])[0]) / 1000.0)
            ok(b"bye", [("Connection", "close")])
            return
        elif path == "/http10":
            send(b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nold!")
        elif path == "/drop-next":
            ok(b"dropping next")
            drop_next = True
        elif path == "/reset-mid":
            send(response(200, "OK", [("Content-Length", "1000")], b"0123456789"))
            time.sleep(0.05)
            conn.shutdown(socket.SHUT_RDWR)
            return
        elif path == "/slow-headers":
            time.sleep(int(query["ms"][0]) / 1000.0)
            ok(b"slow")
        elif path == "/slow-body":
            send(response(200, "OK", [("Content-Length", "10")], b"01234"))
            time.sleep(int(query["ms"][0]) / 1000.0)
            send(b"56789")
        elif path == "/big" or path == "/big-chunked":
            size = int(query["size"][0])
            chunked = path == "/big-chunked"
            framing = [("Transfer-Encoding", "chunked")] if chunked else [("Content-Length", size)]
            send(response(200, "OK", framing, b"", True))
            if is_head:
                continue
            offset = 0
            while offset < size:
                n = min(65536, size - offset)
                piece = pattern(offset, n)
                send(b"%x\r\n%s\r\n" % (n, piece) if chunked else piece)
                offset += n
            if chunked:
                send(b"0\r\n\r\n")
        elif path == "/no-body":
            send(response(204, "No Content", [], b""))
        elif path == "/not-modified":
            send(response(304, "Not Modified", [("Content-Length", "1234")], b""))
        elif path == "/continue":
            send(b"HTTP/1.1 100 Continue\r\n\r\n" + response(200, "OK", [("Content-Length", 2)], b"ok"))
        elif path == "/huge-headers":
            send(response(200, "OK", [("X-Big-%d" % i, "v" * 1000) for i in range(100)] +
                          [("Content-Length", 0)]))
        elif path == "/garbage":
            send(b"NOT HTTP AT ALL\r\n\r\n")
            return
        elif path == "/r/rel":
            send(response(302, "Found", [("Location", "target"), ("Content-Length", 0)]))
        elif path == "/r/target":
            ok(b"target")
        elif path == "/r/abs":
            body = b"moved permanently" * 100
            send(response(301, "Moved", [("Location", "http://%s/hello" % host),
                                         ("Content-Length", len(body))], body, is_head))
        elif path == "/r/loop":
            send(response(302, "Found", [("Location", "/r/loop"), ("Content-Length", 0)]))
        elif path == "/r/chain":
            n = int(query["n"][0])
            loc = "/hello" if n <= 1 else "/r/chain?n=%d" % (n - 1)
            send(response(307, "Temporary", [("Location", loc), ("Transfer-Encoding", "chunked")],
                          b"5\r\nhello\r\n0\r\n\r\n", is_head))
        elif path == "/r/to":
            send(response(302, "Found", [("Location", query["u"][0]), ("Content-Length", 0)]))
        elif path == "/r/dots":
            send(response(302, "Found", [("Location", "./a/../../hello"), ("Content-Length", 0)]))
        else:
            ok(b"not found")


def serve(conn, port, tls_context):
    global connections
    with lock:
        connections += 1
    try:
        if tls_context is not None:
            conn.settimeout(10)
            conn = tls_context.wrap_socket(conn, server_side=True)
        handle(conn, port)
    except (OSError, ssl.SSLError, ValueError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--alpn", default="")
    args = parser.parse_args()

    tls_context = None
    if args.cert:
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_context.load_cert_chain(args.cert, args.key)
        if args.alpn:
            tls_context.set_alpn_protocols(args.alpn.split(","))

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, args.port_file)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, port, tls_context), daemon=True).start()


if __name__ == "__main__":
    main()
