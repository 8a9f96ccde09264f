"""A gRPC server written with Python's grpcio, for modgate's gRPC client.

Usage: grpc_echo_server.py PORT_FILE. Serves /modgate.test.Echo/Echo
(google.protobuf.BytesValue both ways, bidirectional streaming): each
message is echoed as it arrives; "fail:<code>:<text>" ends the call with
that status; "big:<n>" answers n bytes. Writes its port to PORT_FILE.
"""
import concurrent.futures
import os
import sys

import grpc
from google.protobuf import wrappers_pb2


def echo(request_iterator, context):
    for request in request_iterator:
        message = request.value.decode("latin-1")
        if message.startswith("fail:"):
            _, code, text = message.split(":", 2)
            context.abort(next(c for c in grpc.StatusCode if c.value[0] == int(code)), text)
        if message.startswith("big:"):
            yield wrappers_pb2.BytesValue(value=b"b" * int(message[4:]))
            continue
        yield request


server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=4))
server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("modgate.test.Echo", {
    "Echo": grpc.stream_stream_rpc_method_handler(
        echo, request_deserializer=wrappers_pb2.BytesValue.FromString,
        response_serializer=wrappers_pb2.BytesValue.SerializeToString),
}),))
port = server.add_insecure_port("127.0.0.1:0")
server.start()
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(port))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.wait_for_termination()
