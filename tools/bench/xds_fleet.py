#!/usr/bin/env python3
"""Simulates a fleet of sidecars against one `modgate control-plane`.

Each simulated sidecar is a real gRPC client (Python grpcio, asyncio) with
its own connection and one delta ADS stream subscribed to the five modgate
resource types; it ACKs every response, as a sidecar does after applying
it. Measured (the targets of issue 10, on 2 cores):
  * connect storm: all N sidecars connect at once; time until every one has
    its first answer for every type and ACKed it (target: 1,000 in 10 s);
  * config change: a file in the watched directory is rewritten; time until
    the last sidecar ACKed the changed cluster, over --changes changes
    (target: p99 within 2 s at 1,000);
  * control plane RSS at N nodes (target <= 200 MiB) and CPU used over
    --idle seconds with nothing changing (target: none).

Usage: tools/bench/xds_fleet.py --modgate bazel-bin/source/exe/modgate -n 1000
Python 3 with Debian's python3-grpcio and python3-protobuf (/usr/bin/python3).
"""

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TYPES = ["Listener", "Cluster", "RouteTable", "SumDb", "Runtime"]
PREFIX = "type.googleapis.com/modgate.config.v1."
DELTA = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def generate_stubs(work):
    gen = os.path.join(work, "gen")
    os.makedirs(gen, exist_ok=True)
    protos = []
    for root, _, files in os.walk(os.path.join(REPO, "api")):
        protos += [os.path.relpath(os.path.join(root, f), REPO) for f in files
                   if f.endswith(".proto")]
    subprocess.check_call(["protoc", "-I" + REPO, "-I/usr/include", "--python_out=" + gen]
                          + protos)
    sys.path.insert(0, gen)


def write_desired(directory, port):
    text = ("clusters:\n"
            "  - name: alpha\n    endpoints: [{url: \"http://127.0.0.1:%d\"}]\n"
            "  - name: beta\n    endpoints: [{url: \"http://127.0.0.1:9002\"}]\n"
            "routes:\n  - match: {prefix: \"\"}\n    cluster: alpha\n" % port)
    tmp = os.path.join(directory, ".config.yaml.tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, os.path.join(directory, "config.yaml"))


def proc_stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024.0
    return cpu, rss


class Sidecar:
    def __init__(self, index, address, pb, cluster_pb):
        self.cluster_pb = cluster_pb
        self.index = index
        self.address = address
        self.pb = pb
        self.types_acked = set()
        self.alpha_port = None
        self.events = {}  # alpha port -> time its response was ACKed

    async def run(self, ready, grpc):
        pb = self.pb
        # Its own connection, as a real sidecar has (grpcio would otherwise
        # share one subchannel between channels to the same target).
        channel = grpc.aio.insecure_channel(self.address,
                                            options=[("grpc.use_local_subchannel_pool", 1)])
        call = channel.stream_stream(DELTA, request_serializer=pb.DeltaDiscoveryRequest.SerializeToString,
                                     response_deserializer=pb.DeltaDiscoveryResponse.FromString)
        queue = asyncio.Queue()

        async def requests():
            while True:
                item = await queue.get()
                if item is None:
                    return
                yield item

        for i, t in enumerate(TYPES):
            req = pb.DeltaDiscoveryRequest(type_url=PREFIX + t)
            if i == 0:
                req.node.id = "sim-%04d" % self.index
                req.node.cluster = "bench"
                req.node.user_agent_name = "xds-fleet-sim"
                req.node.metadata.fields["pool"].string_value = "p%d" % (self.index % 4)
            queue.put_nowait(req)
        stream = call(requests())
        try:
            async for response in stream:
                for resource in response.resources:
                    if resource.name == "alpha":
                        cluster = self.cluster_pb.Cluster()
                        resource.resource.Unpack(cluster)
                        self.alpha_port = int(cluster.endpoints[0].url.rsplit(":", 1)[1])
                queue.put_nowait(pb.DeltaDiscoveryRequest(type_url=response.type_url,
                                                          response_nonce=response.nonce))
                if self.alpha_port is not None:
                    self.events.setdefault(self.alpha_port, time.monotonic())
                self.types_acked.add(response.type_url)
                if len(self.types_acked) == len(TYPES):
                    ready.set()
        except grpc.aio.AioRpcError as error:
            print("sidecar %d: %s" % (self.index, error), file=sys.stderr)
        finally:
            await channel.close()


async def main_async(args, pb, cluster_pb, grpc, cp_pid, address, desired):
    sidecars = [Sidecar(i, address, pb, cluster_pb) for i in range(args.n)]
    readies = [asyncio.Event() for _ in sidecars]
    start = time.monotonic()
    tasks = [asyncio.create_task(s.run(r, grpc)) for s, r in zip(sidecars, readies)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=120)
    storm = time.monotonic() - start
    cpu0, rss = proc_stat(cp_pid)
    await asyncio.sleep(args.idle)
    cpu1, rss = proc_stat(cp_pid)
    idle_cpu = cpu1 - cpu0

    latencies = []
    for change in range(args.changes):
        port = 20000 + change
        t0 = time.monotonic()
        write_desired(desired, port)
        deadline = t0 + 60
        while time.monotonic() < deadline:
            if all(port in s.events for s in sidecars):
                break
            await asyncio.sleep(0.01)
        missing = sum(1 for s in sidecars if port not in s.events)
        if missing:
            print("change %d: %d sidecars never got it" % (change, missing), file=sys.stderr)
            latencies.append(float("inf"))
            continue
        latencies.append(max(s.events[port] for s in sidecars) - t0)
        await asyncio.sleep(0.2)
    for task in tasks:
        task.cancel()
    return storm, idle_cpu, rss, latencies


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modgate", default=os.path.join(REPO, "bazel-bin/source/exe/modgate"))
    parser.add_argument("-n", type=int, default=1000, help="simulated sidecars")
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of no change")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    work = tempfile.mkdtemp(prefix="xds-fleet.")
    generate_stubs(work)
    import grpc
    import grpc.aio  # noqa: F401
    from api.envoy.service.discovery.v3 import discovery_pb2 as pb
    from api.modgate.config.v1 import cluster_pb2

    desired = os.path.join(work, "desired")
    os.makedirs(desired)
    write_desired(desired, 19999)
    xds, admin = free_port(), free_port()
    with open(os.path.join(work, "cp.yaml"), "w") as f:
        f.write("address: 127.0.0.1:%d\nadmin_address: 127.0.0.1:%d\nconfig_dir: %s\n"
                "debounce: 50ms\n" % (xds, admin, desired))
    log = open(os.path.join(work, "cp.log"), "w")
    cp = subprocess.Popen([args.modgate, "control-plane", "-c", os.path.join(work, "cp.yaml"),
                           "--log-level", "warn"], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            try:
                if urllib.request.urlopen("http://127.0.0.1:%d/ready" % admin, timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        # Not asyncio.run: its clean-up waits for 1,000 cancelled grpc.aio
        # streams to close, which can hang; the process exits instead.
        loop = asyncio.new_event_loop()
        storm, idle_cpu, rss, latencies = loop.run_until_complete(
            main_async(args, pb, cluster_pb2, grpc, cp.pid, "127.0.0.1:%d" % xds, desired))
        finite = sorted(l for l in latencies if l != float("inf"))
        p99 = finite[min(len(finite) - 1, int(0.99 * len(finite)))] if finite else float("inf")
        result = {
            "sidecars": args.n,
            "connect_storm_s": round(storm, 3),
            "change_to_fleet_ack_s": {
                "p50": round(statistics.median(finite), 3) if finite else None,
                "p99": round(p99, 3),
                "max": round(max(latencies), 3) if latencies else None,
                "changes": len(latencies),
                "lost": sum(1 for l in latencies if l == float("inf")),
            },
            "control_plane_rss_mib": round(rss, 1),
            "control_plane_idle_cpu_s": round(idle_cpu, 3),
            "idle_seconds": args.idle,
            "load_average": os.getloadavg(),
        }
        print(json.dumps(result, indent=2), flush=True)
    finally:
        cp.terminate()
        cp.wait(timeout=10)
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
