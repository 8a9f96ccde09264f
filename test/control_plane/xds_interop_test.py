"""Interop: Python grpcio (an independent gRPC/xDS client) against
`modgate control-plane`, with stubs generated from the same .proto files.

Run by xds_interop_test.sh. Prints one PASS:/FAIL: line per case and exits
non-zero if any failed. Every wait is for an event, with a generous deadline.
"""
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

MODGATE = sys.argv[1]
REPO = sys.argv[2]  # where api/ is
WORK = tempfile.mkdtemp(prefix="xds_interop.", dir=os.environ.get("TEST_TMPDIR"))
DEADLINE = 30

# Python stubs from the repo's protos.
GEN = os.path.join(WORK, "gen")
os.makedirs(GEN)
protos = []
for root, _, files in os.walk(os.path.join(REPO, "api")):
    protos += [os.path.relpath(os.path.join(root, f), REPO) for f in files if f.endswith(".proto")]
subprocess.check_call(["protoc", "-I" + REPO, "-I/usr/include", "--python_out=" + GEN] + protos)
sys.path.insert(0, GEN)

import grpc  # noqa: E402
from api.envoy.service.discovery.v3 import discovery_pb2  # noqa: E402
from api.modgate.config.v1 import cluster_pb2, resources_pb2  # noqa: E402
from api.google.rpc import status_pb2  # noqa: E402
from api.modgate.service.fleet.v1 import fleet_report_pb2  # noqa: E402

CLUSTER = "type.googleapis.com/modgate.config.v1.Cluster"
LISTENER = "type.googleapis.com/modgate.config.v1.Listener"
ROUTES = "type.googleapis.com/modgate.config.v1.RouteTable"
SOTW = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
DELTA = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"

failed = 0


def result(ok, case, why=""):
    global failed
    if ok:
        print("PASS: " + case, flush=True)
    else:
        failed += 1
        print("FAIL: %s: %s" % (case, why), flush=True)
    return ok


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


CONFIG_DIR = os.path.join(WORK, "desired")
os.makedirs(CONFIG_DIR)


def write_config(name, clusters, extra=""):
    """Writes a desired-config file atomically (rename), as an editor would."""
    text = "clusters:\n"
    for cluster, url in clusters:
        text += "  - name: %s\n    endpoints:\n      - url: %s\n" % (cluster, url)
    text += extra
    tmp = os.path.join(CONFIG_DIR, "." + name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, os.path.join(CONFIG_DIR, name))


write_config("10-clusters.yaml", [("alpha", "http://127.0.0.1:9001"),
                                  ("beta", "http://127.0.0.1:9002")],
             "routes:\n  - match: {prefix: \"\"}\n    cluster: alpha\n")
XDS_PORT, ADMIN_PORT = free_port(), free_port()
with open(os.path.join(WORK, "cp.yaml"), "w") as f:
    f.write("address: 127.0.0.1:%d\nadmin_address: 127.0.0.1:%d\nconfig_dir: %s\n"
            "identifier: interop-cp\ndebounce: 50ms\n"
            "node_groups:\n  - name: canary\n    match: {labels: {tier: canary}}\n"
            "    overrides:\n      runtime: {x.y: 7}\n" % (XDS_PORT, ADMIN_PORT, CONFIG_DIR))
log = open(os.path.join(WORK, "cp.log"), "w")
cp = subprocess.Popen([MODGATE, "control-plane", "-c", os.path.join(WORK, "cp.yaml")],
                      stdout=log, stderr=subprocess.STDOUT)


def admin(path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (ADMIN_PORT, path), timeout=10) as r:
        return r.read().decode()


def wait_for(what, predicate, deadline=DEADLINE):
    end = time.monotonic() + deadline
    last = None
    while time.monotonic() < end:
        try:
            last = predicate()
            if last:
                return last
        except Exception as error:  # not up yet
            last = error
        time.sleep(0.05)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def fleet_node(node_id):
    for node in json.loads(admin("/fleet"))["nodes"]:
        if node["id"] == node_id:
            return node
    return None


class Stream:
    """One ADS stream: requests from a queue, responses into a queue."""

    def __init__(self, method, request_type, response_type):
        self.channel = grpc.insecure_channel("127.0.0.1:%d" % XDS_PORT)
        call = self.channel.stream_stream(method, request_serializer=request_type.SerializeToString,
                                          response_deserializer=response_type.FromString)
        self.requests = queue.Queue()
        self.responses = queue.Queue()
        self.call = call(iter(self.requests.get, None))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            for response in self.call:
                self.responses.put(response)
        except grpc.RpcError as error:
            self.responses.put(error)

    def send(self, request):
        self.requests.put(request)

    def recv(self):
        item = self.responses.get(timeout=DEADLINE)
        if isinstance(item, Exception):
            raise item
        return item

    def close(self):
        self.requests.put(None)
        self.channel.close()


def node(node_id, **labels):
    n = discovery_pb2.DiscoveryRequest().node
    n.id = node_id
    n.cluster = "ci"
    n.user_agent_name = "xds-interop"
    for k, v in labels.items():
        n.metadata.fields[k].string_value = v
    return n


def cluster_names(response):
    names = []
    for any_ in response.resources:
        c = cluster_pb2.Cluster()
        any_.Unpack(c)
        names.append(c.name)
    return names


try:
    wait_for("/ready", lambda: admin("/ready") == "READY\n")

    # ---- state of the world ------------------------------------------------
    s = Stream(SOTW, discovery_pb2.DiscoveryRequest, discovery_pb2.DiscoveryResponse)
    req = discovery_pb2.DiscoveryRequest(type_url=CLUSTER)
    req.node.CopyFrom(node("sotw-1", tier="stable"))
    s.send(req)
    r1 = s.recv()
    result(r1.type_url == CLUSTER and sorted(cluster_names(r1)) == ["alpha", "beta"]
           and r1.nonce and r1.control_plane.identifier == "interop-cp",
           "sotw: first response holds every cluster", r1)
    s.send(discovery_pb2.DiscoveryRequest(type_url=CLUSTER, version_info=r1.version_info,
                                          response_nonce=r1.nonce))
    acked = wait_for("ACK in /fleet", lambda: (fleet_node("sotw-1") or {}).get("types", {})
                     .get("Cluster", {}).get("acked_version") == r1.version_info)
    result(acked, "sotw: ACK visible in /fleet")
    n = fleet_node("sotw-1")
    result(n["labels"] == {"tier": "stable"} and n["connected"] and n["protocol"] == "sotw"
           and n["address"].startswith("127.0.0.1:"), "sotw: /fleet has labels and address", n)

    # A file change reaches the client (full state: gamma added, beta gone).
    write_config("10-clusters.yaml", [("alpha", "http://127.0.0.1:9001"),
                                      ("gamma", "http://127.0.0.1:9003")],
                 "routes:\n  - match: {prefix: \"\"}\n    cluster: alpha\n")
    r2 = s.recv()
    result(sorted(cluster_names(r2)) == ["alpha", "gamma"] and r2.version_info != r1.version_info,
           "sotw: a file change in the watched directory reaches the client", cluster_names(r2))

    # NACK r2: visible in /fleet with its text, version kept at r1's.
    nack = discovery_pb2.DiscoveryRequest(type_url=CLUSTER, version_info=r1.version_info,
                                          response_nonce=r2.nonce)
    nack.error_detail.code = 3
    nack.error_detail.message = "clusters[1].endpoints[0].url: port 9003 is taken here"
    s.send(nack)
    n = wait_for("NACK in /fleet", lambda: (fleet_node("sotw-1") or {}).get("last_nack"))
    result(n["message"] == "clusters[1].endpoints[0].url: port 9003 is taken here"
           and n["version"] == r1.version_info and n["type"] == "Cluster",
           "sotw: NACK visible in /fleet with its text", n)
    metrics = admin("/stats/prometheus")
    result('modgate_cp_nacks_total{type="Cluster"} 1' in metrics, "sotw: NACK counted")

    # A stale nonce (r1's) is ignored: the next response this stream gets is
    # the answer to the listener subscription sent after it.
    s.send(discovery_pb2.DiscoveryRequest(type_url=CLUSTER, version_info=r1.version_info,
                                          response_nonce=r1.nonce))
    s.send(discovery_pb2.DiscoveryRequest(type_url=LISTENER))
    r3 = s.recv()
    result(r3.type_url == LISTENER and len(r3.resources) == 0,
           "sotw: a stale nonce gets no answer", r3.type_url)
    s.send(discovery_pb2.DiscoveryRequest(type_url=LISTENER, version_info=r3.version_info,
                                          response_nonce=r3.nonce))

    # A bad file is never pushed; the error shows in /status; a later good
    # change is.
    write_config("20-bad.yaml", [("delta", "ftp://nowhere")])
    status = wait_for("error in /status", lambda: json.loads(admin("/status")).get("last_error"))
    result("20-bad.yaml" in status["message"] or "clusters[" in status["message"],
           "bad file: the error shows in /status", status)
    os.remove(os.path.join(CONFIG_DIR, "20-bad.yaml"))
    write_config("10-clusters.yaml", [("alpha", "http://127.0.0.1:9001"),
                                      ("gamma", "http://127.0.0.1:9004")],
                 "routes:\n  - match: {prefix: \"\"}\n    cluster: alpha\n")
    r4 = s.recv()
    result(r4.type_url == CLUSTER and sorted(cluster_names(r4)) == ["alpha", "gamma"]
           and "delta" not in cluster_names(r4), "bad file: never pushed, the next good one is")
    c = cluster_pb2.Cluster()
    r4.resources[1].Unpack(c)
    result(c.endpoints[0].url == "http://127.0.0.1:9004", "bad file: the good change's content")
    s.send(discovery_pb2.DiscoveryRequest(type_url=CLUSTER, version_info=r4.version_info,
                                          response_nonce=r4.nonce))
    s.close()
    wait_for("sotw-1 disconnected", lambda: not fleet_node("sotw-1")["connected"])
    result(True, "sotw: disconnect visible in /fleet")

    # ---- delta ---------------------------------------------------------------
    d = Stream(DELTA, discovery_pb2.DeltaDiscoveryRequest, discovery_pb2.DeltaDiscoveryResponse)
    dreq = discovery_pb2.DeltaDiscoveryRequest(type_url=CLUSTER)
    dreq.node.CopyFrom(node("delta-1", tier="canary"))
    d.send(dreq)
    d1 = d.recv()
    versions = {r.name: r.version for r in d1.resources}
    result(sorted(versions) == ["alpha", "gamma"] and all(len(v) == 16 for v in versions.values()),
           "delta: wildcard subscription gets every cluster with its version", versions)
    d.send(discovery_pb2.DeltaDiscoveryRequest(type_url=CLUSTER, response_nonce=d1.nonce))
    # The node group's override (runtime) reaches this node only.
    d.send(discovery_pb2.DeltaDiscoveryRequest(type_url="type.googleapis.com/modgate.config.v1.Runtime"))
    d2 = d.recv()
    rt = resources_pb2.Runtime()
    if d2.resources:
        d2.resources[0].resource.Unpack(rt)
    result(d2.resources and d2.resources[0].name == "runtime" and rt.values.get("x.y") == 7,
           "delta: the node group's overrides", d2)
    d.send(discovery_pb2.DeltaDiscoveryRequest(type_url=d2.type_url, response_nonce=d2.nonce))
    wait_for("delta ACKs", lambda: len((fleet_node("delta-1") or {}).get("types", {})) == 2)
    n = fleet_node("delta-1")
    result(n["group"] == "canary" and n["protocol"] == "delta", "delta: /fleet shows the group", n)
    d.close()

    # Reconnect: initial_resource_versions with alpha current and gamma old:
    # only gamma comes back; a name that no longer exists is removed.
    write_config("10-clusters.yaml", [("alpha", "http://127.0.0.1:9001"),
                                      ("gamma", "http://127.0.0.1:9005")],
                 "routes:\n  - match: {prefix: \"\"}\n    cluster: alpha\n")
    wait_for("generation 4+", lambda: json.loads(admin("/status"))["generation"] >= 4)
    d = Stream(DELTA, discovery_pb2.DeltaDiscoveryRequest, discovery_pb2.DeltaDiscoveryResponse)
    dreq = discovery_pb2.DeltaDiscoveryRequest(type_url=CLUSTER)
    dreq.node.CopyFrom(node("delta-1", tier="canary"))
    dreq.initial_resource_versions["alpha"] = versions["alpha"]
    dreq.initial_resource_versions["gamma"] = versions["gamma"]
    dreq.initial_resource_versions["old"] = "0123456789abcdef"
    d.send(dreq)
    d3 = d.recv()
    result([r.name for r in d3.resources] == ["gamma"] and list(d3.removed_resources) == ["old"],
           "delta: reconnect with initial_resource_versions gets only what differs",
           ([r.name for r in d3.resources], list(d3.removed_resources)))
    d.send(discovery_pb2.DeltaDiscoveryRequest(type_url=CLUSTER, response_nonce=d3.nonce))
    # An unchanged file rewrite pushes nothing; a real change pushes only
    # the changed resource.
    write_config("10-clusters.yaml", [("alpha", "http://127.0.0.1:9001"),
                                      ("gamma", "http://127.0.0.1:9006")],
                 "routes:\n  - match: {prefix: \"\"}\n    cluster: alpha\n")
    d4 = d.recv()
    result([r.name for r in d4.resources] == ["gamma"] and not d4.removed_resources,
           "delta: a change sends only the changed resource")
    nack = discovery_pb2.DeltaDiscoveryRequest(type_url=CLUSTER, response_nonce=d4.nonce)
    nack.error_detail.message = "clusters[1]: cannot apply"
    d.send(nack)
    n = wait_for("delta NACK", lambda: ((fleet_node("delta-1") or {}).get("last_nack") or {})
                 .get("message") == "clusters[1]: cannot apply")
    result(n, "delta: NACK visible in /fleet")
    d.close()

    # Fleet reports: the newest one per node shows in /fleet.
    rs = Stream("/modgate.service.fleet.v1.FleetReportService/StreamReports",
                fleet_report_pb2.Report, fleet_report_pb2.ReportResponse)
    report = fleet_report_pb2.Report()
    report.node.CopyFrom(node("delta-1"))
    report.interval.seconds = 10
    route = report.routes.add(route="public", canary_weight=5)
    route.stable.requests = 90
    route.canary.requests = 10
    route.canary.responses_5xx = 2
    rs.send(report)
    first = rs.recv()
    result(first.report_interval.seconds == 10, "reports: the control plane asks for an interval")
    last = wait_for("report in /fleet", lambda: (fleet_node("delta-1") or {}).get("last_report"))
    result(last["routes"][0]["canary"]["responses_5xx"] == 2 and last["interval_ms"] == 10000,
           "reports: the last report shows in /fleet", last)
    rs.close()

    metrics = admin("/stats/prometheus")
    result("modgate_cp_fleet_ack_seconds_count" in metrics and "modgate_cp_pushes_total" in metrics,
           "metrics: pushes and time to fleet-wide ACK exported")
except Exception as error:  # a timeout or a broken stream: one failure, with the log
    result(False, "interop", repr(error))
finally:
    cp.terminate()
    try:
        cp.wait(timeout=10)
    except subprocess.TimeoutExpired:
        cp.kill()
    log.close()
    if failed:
        with open(os.path.join(WORK, "cp.log")) as f:
            print("    --- control plane log ---\n" + "".join("    | " + l for l in f.readlines()[-40:]))

print("%d failed" % failed)
shutil.rmtree(WORK, ignore_errors=True)
sys.exit(1 if failed else 0)
