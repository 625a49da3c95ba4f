#!/usr/bin/env python3
"""The instance-manager benchmark's client (bench/im.sh): engine readiness through an NBD read,
and InstanceList latency with many replicas on one disk."""

import argparse
import socket
import statistics
import struct
import sys
import time

import grpc
from google.protobuf import empty_pb2

import common_pb2
import disk_pb2
import disk_pb2_grpc
import instance_pb2
import instance_pb2_grpc

V2 = common_pb2.DATA_ENGINE_V2
MIB = 1 << 20


def wait_ready(call, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except grpc.RpcError as error:
            if time.monotonic() > deadline:
                raise SystemExit(f"instance manager not ready: {error}")
            time.sleep(0.05)


def poll(call, done, timeout=30.0, interval=0.002):
    deadline = time.monotonic() + timeout
    while True:
        value = call()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting; last answer: {value}")
        time.sleep(interval)


def nbd_read(host, port, export, length=4096):
    """One read through an NBD export (fixed newstyle handshake, NBD_OPT_GO, NBD_CMD_READ)."""
    with socket.create_connection((host, port), timeout=5) as conn:
        def recv(count):
            data = b""
            while len(data) < count:
                chunk = conn.recv(count - len(data))
                if not chunk:
                    raise ConnectionError("NBD server closed the connection")
                data += chunk
            return data

        magic, opt_magic, flags = struct.unpack(">QQH", recv(18))
        if magic != 0x4E42444D41474943 or opt_magic != 0x49484156454F5054:
            raise ConnectionError("not an NBD newstyle server")
        if not flags & 1:
            raise ConnectionError("the NBD server is not fixed newstyle")
        conn.sendall(struct.pack(">I", flags & 3))  # fixed newstyle (and no zeroes if offered)
        name = export.encode()
        payload = struct.pack(">I", len(name)) + name + struct.pack(">H", 0)
        conn.sendall(struct.pack(">QII", 0x49484156454F5054, 7, len(payload)) + payload)  # NBD_OPT_GO
        while True:
            _, _, reply, size = struct.unpack(">QIII", recv(20))
            body = recv(size)
            if reply == 1:  # NBD_REP_ACK
                break
            if reply & 0x80000000:
                raise ConnectionError(f"NBD_OPT_GO refused ({reply:#x}): {body!r}")
        conn.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 0, 1, 0, length))  # NBD_CMD_READ
        magic, error, handle = struct.unpack(">IIQ", recv(16))
        if magic != 0x67446698 or error != 0:
            raise ConnectionError(f"NBD read failed: error {error}")
        recv(length)


def replica_spec(name, disk, size):
    spec = instance_pb2.InstanceSpec(
        name=name, type="replica", volume_name=name.split("-r-")[0], data_engine=V2, backend_store_driver=1,
        port_count=5, port_args=["--listen,:"])
    spec.spdk_instance_spec.size = size
    spec.spdk_instance_spec.disk_name = disk.name
    spec.spdk_instance_spec.disk_uuid = disk.uuid
    return spec


def create_running(instances, spec):
    instances.InstanceCreate(instance_pb2.InstanceCreateRequest(spec=spec))
    return poll(
        lambda: instances.InstanceGet(instance_pb2.InstanceGetRequest(name=spec.name, type=spec.type, data_engine=V2)),
        lambda r: r.status.state in ("running", "error"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--disk", required=True)
    parser.add_argument("--replicas", type=int, default=200)
    parser.add_argument("--list-calls", type=int, default=100)
    parser.add_argument("--engine-runs", type=int, default=5)
    args = parser.parse_args()

    disks = disk_pb2_grpc.DiskServiceStub(grpc.insecure_channel(f"127.0.0.1:{args.port + 2}"))
    instances = instance_pb2_grpc.InstanceServiceStub(grpc.insecure_channel(f"127.0.0.1:{args.port + 3}"))
    wait_ready(lambda: instances.InstanceList(empty_pb2.Empty()))
    wait_ready(lambda: disks.VersionGet(empty_pb2.Empty()))

    disks.DiskCreate(disk_pb2.DiskCreateRequest(
        disk_type=common_pb2.block, disk_name="bench-disk", disk_path=args.disk, block_size=512))
    disk = poll(lambda: disks.DiskGet(disk_pb2.DiskGetRequest(disk_type=common_pb2.block, disk_name="bench-disk")),
                lambda d: d.state != "creating", interval=0.02)
    if disk.state != "ready":
        raise SystemExit(f"disk not ready: {disk}")

    # Engine readiness: InstanceCreate → frontend answering a read.
    ready_times = []
    for run in range(args.engine_runs):
        volume = f"benchvol{run}"
        addresses = {}
        for leg in ("a", "b"):
            replica = create_running(instances, replica_spec(f"{volume}-r-{leg}", disk, 16 * MIB))
            if replica.status.state != "running":
                raise SystemExit(f"replica failed: {replica.status.error_msg}")
            addresses[replica.spec.name] = f"127.0.0.1:{replica.status.port_start}"
        engine_spec = instance_pb2.InstanceSpec(
            name=f"{volume}-e-0", type="engine", volume_name=volume, data_engine=V2, backend_store_driver=1,
            port_count=1, port_args=["--listen,:"], initiator_address="127.0.0.1", target_address="127.0.0.1")
        engine_spec.spdk_instance_spec.size = 16 * MIB
        engine_spec.spdk_instance_spec.frontend = "nbd"
        engine_spec.spdk_instance_spec.replica_address_map.update(addresses)
        start = time.monotonic()
        engine = create_running(instances, engine_spec)
        if engine.status.state != "running":
            raise SystemExit(f"engine failed: {engine.status.error_msg}")
        nbd_port = engine.status.port_start
        if engine.status.endpoint.startswith("nbd://"):
            nbd_port = int(engine.status.endpoint[len("nbd://"):].split("/")[0].rsplit(":", 1)[1])
        deadline = time.monotonic() + 10
        while True:
            try:
                nbd_read("127.0.0.1", nbd_port, volume)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.002)
        ready_times.append(time.monotonic() - start)
        instances.InstanceDelete(instance_pb2.InstanceDeleteRequest(
            name=engine_spec.name, type="engine", data_engine=V2, cleanup_required=True))
        for name in addresses:
            instances.InstanceDelete(instance_pb2.InstanceDeleteRequest(
                name=name, type="replica", data_engine=V2, disk_uuid=disk.uuid, cleanup_required=True))

    # InstanceList with many replicas on the disk.
    for index in range(args.replicas):
        replica = create_running(instances, replica_spec(f"listvol{index}-r-0", disk, 4 * MIB))
        if replica.status.state != "running":
            raise SystemExit(f"replica {index} failed: {replica.status.error_msg}")
    latencies = []
    for _ in range(args.list_calls):
        start = time.monotonic()
        listed = instances.InstanceList(empty_pb2.Empty())
        latencies.append(time.monotonic() - start)
    if len(listed.instances) < args.replicas:
        raise SystemExit(f"InstanceList answered {len(listed.instances)} instances, not {args.replicas}")
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]

    print(f"engine ready (InstanceCreate → first NBD read), {args.engine_runs} runs: "
          f"median {statistics.median(ready_times) * 1000:.1f} ms, max {max(ready_times) * 1000:.1f} ms (goal < 1000 ms)")
    print(f"InstanceList with {args.replicas} replicas, {args.list_calls} calls: "
          f"median {statistics.median(latencies) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms (goal < 50 ms)")


if __name__ == "__main__":
    sys.exit(main())
