"""An independent gRPC client (Python grpcio) against modgate's gRPC server.

Usage: grpc_echo_client.py PORT CASE. Prints one line per check and exits
non-zero on the first failure. The server's /modgate.test.Echo/Echo method
(google.protobuf.BytesValue both ways) echoes each message as it arrives; "fail:<code>:<text>" ends the call with
that status; "big:<n>" answers n bytes; the client half-close ends it OK.
"""
import queue
import sys
import threading

import grpc

PORT = sys.argv[1]
CASE = sys.argv[2]
from google.protobuf import wrappers_pb2

serialize = lambda b: wrappers_pb2.BytesValue(value=b).SerializeToString()
deserialize = lambda b: wrappers_pb2.BytesValue.FromString(b).value


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        sys.exit(1)


channel = grpc.insecure_channel("127.0.0.1:" + PORT)
grpc.channel_ready_future(channel).result(timeout=20)
echo = channel.stream_stream("/modgate.test.Echo/Echo", request_serializer=serialize,
                             response_deserializer=deserialize)


class Requests:
    """A request iterator the test feeds one message at a time."""

    def __init__(self):
        self.q = queue.Queue()

    def send(self, message):
        self.q.put(message)

    def close(self):
        self.q.put(None)

    def __iter__(self):
        while True:
            item = self.q.get()
            if item is None:
                return
            yield item


if CASE == "bidi":
    # Each response arrives before the next request is sent: the server
    # streams both ways on one call.
    requests = Requests()
    call = echo(iter(requests), timeout=30)
    for i in range(20):
        message = ("message %d " % i).encode() * (i + 1)
        requests.send(message)
        check(next(call) == message, "echo %d while the call stays open" % i)
    requests.close()
    check(list(call) == [], "no more messages after the half-close")
    check(call.code() == grpc.StatusCode.OK, "status OK in trailers")
elif CASE == "status":
    requests = Requests()
    call = echo(iter(requests), timeout=30)
    requests.send(b"hello")
    check(next(call) == b"hello", "first message echoed")
    requests.send("fail:3:clusters[0].name: required\n100% bad: caf\u00e9".encode())
    try:
        next(call)
        check(False, "the call ended with an error")
    except grpc.RpcError as error:
        check(error.code() == grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT in trailers")
        check(error.details() == "clusters[0].name: required\n100% bad: caf\u00e9",
              "grpc-message percent-decoded to the original text: %r" % error.details())
elif CASE == "trailers_only":
    try:
        list(echo(iter([b"fail:9:not yet"]), timeout=30))
        check(False, "the call failed")
    except grpc.RpcError as error:
        check(error.code() == grpc.StatusCode.FAILED_PRECONDITION, "trailers-only status")
        check(error.details() == "not yet", "trailers-only message")
    unknown = channel.stream_stream("/modgate.test.Echo/Nope", request_serializer=serialize,
                                    response_deserializer=deserialize)
    try:
        list(unknown(iter([b"x"]), timeout=30))
        check(False, "an unknown method fails")
    except grpc.RpcError as error:
        check(error.code() == grpc.StatusCode.UNIMPLEMENTED, "unknown method: UNIMPLEMENTED")
        check("/modgate.test.Echo/Nope" in error.details(), "the reason names the method")
elif CASE == "big":
    # 3 MiB each way, several DATA frames per message.
    payload = bytes(range(256)) * (3 * 4096)
    responses = list(echo(iter([payload, b"big:2000000"]), timeout=60))
    check(responses[0] == payload, "a 3 MiB message echoed intact")
    check(len(responses[1]) == 2000000, "a 2 MB response")
elif CASE == "too_big":
    try:
        list(echo(iter([b"x" * (5 * 1024 * 1024)]), timeout=30))
        check(False, "an oversized message fails")
    except grpc.RpcError as error:
        check(error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED,
              "oversized message: %s" % error.code())
elif CASE == "cancel":
    requests = Requests()
    call = echo(iter(requests), timeout=30)
    requests.send(b"one")
    check(next(call) == b"one", "echoed before the cancel")
    call.cancel()
    check(call.code() == grpc.StatusCode.CANCELLED, "cancelled")
    requests.close()
else:
    check(False, "unknown case " + CASE)
print("done")
