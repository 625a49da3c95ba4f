// The check from outside Swift with stubs compiled from this project's own .proto files: PyPI's
// grpcio-tools generates Python modules from proto/*.proto in the test, and Python's grpcio drives
// a real `hornbill instance-manager` through them: InstanceCreate, InstanceGet, InstanceList,
// ProcessList, InstanceDelete, and the refusals of InstanceResume, InstanceDeleteTarget,
// DiskService.MetricsGet and a DiskCreate of a disk type no proto defines; health and reflection
// through grpcio's own packages. A field number or type that differed between the .proto files and
// what the server puts on the wire would show here.

import Foundation
import Testing

/// argv: the proto directory, the first port, the binary the instance runs. Prints JSON.
private let pythonStubClient = """
    import json, os, subprocess, sys, tempfile, time
    import grpc
    from google.protobuf import empty_pb2
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    proto_dir, port, binary = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    out = tempfile.mkdtemp()
    files = sorted(os.path.join(proto_dir, name) for name in os.listdir(proto_dir) if name.endswith(".proto"))
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", proto_dir, "--python_out", out,
                    "--grpc_python_out", out] + files, check=True)
    sys.path.insert(0, out)
    import common_pb2, disk_pb2, disk_pb2_grpc, imrpc_pb2, imrpc_pb2_grpc, instance_pb2, instance_pb2_grpc

    def channel(offset):
        opened = grpc.insecure_channel("127.0.0.1:%d" % (port + offset))
        grpc.channel_ready_future(opened).result(timeout=20)
        return opened

    def code(call):
        try:
            call()
            return ["OK", ""]
        except grpc.RpcError as error:
            return [error.code().name, error.details()]

    processes = imrpc_pb2_grpc.ProcessManagerServiceStub(channel(0))
    disks = disk_pb2_grpc.DiskServiceStub(channel(2))
    instance_channel = channel(3)
    instances = instance_pb2_grpc.InstanceServiceStub(instance_channel)
    V1 = common_pb2.DATA_ENGINE_V1

    spec = instance_pb2.InstanceSpec(
        name="stub-sleeper", type="replica", data_engine=V1,
        process_instance_spec=instance_pb2.ProcessInstanceSpec(binary=binary, args=["600"]))
    created = instances.InstanceCreate(instance_pb2.InstanceCreateRequest(spec=spec), timeout=20)
    state = ""
    for _ in range(200):
        state = instances.InstanceList(empty_pb2.Empty(), timeout=20).instances["stub-sleeper"].status.state
        if state == "running":
            break
        time.sleep(0.05)
    got = instances.InstanceGet(
        instance_pb2.InstanceGetRequest(name="stub-sleeper", type="replica", data_engine=V1), timeout=20)
    listed = processes.ProcessList(imrpc_pb2.ProcessListRequest(), timeout=20).processes
    resume = code(lambda: instances.InstanceResume(
        instance_pb2.InstanceResumeRequest(name="stub-sleeper", type="replica", data_engine=V1), timeout=20))
    delete_target = code(lambda: instances.InstanceDeleteTarget(
        instance_pb2.InstanceDeleteTargetRequest(name="stub-sleeper", type="replica", data_engine=V1), timeout=20))
    metrics = code(lambda: disks.MetricsGet(
        disk_pb2.DiskGetRequest(disk_type=common_pb2.block, disk_name="stub-nodisk"), timeout=20))
    unknown_type = code(lambda: disks.DiskCreate(
        disk_pb2.DiskCreateRequest(disk_type=7, disk_name="stub-disk", disk_path="/nonexistent", block_size=512),
        timeout=20))
    deleted = instances.InstanceDelete(
        instance_pb2.InstanceDeleteRequest(name="stub-sleeper", type="replica", data_engine=V1), timeout=20)
    health = health_pb2_grpc.HealthStub(instance_channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=20)
    reflection = reflection_pb2_grpc.ServerReflectionStub(instance_channel)
    answers = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=20)
    services = sorted(service.name for answer in answers for service in answer.list_services_response.service)
    print(json.dumps({
        "createdType": created.spec.type,
        "state": state,
        "gotBinary": got.spec.process_instance_spec.binary,
        "processListed": "stub-sleeper" in listed,
        "resume": resume,
        "deleteTarget": delete_target,
        "metrics": metrics,
        "unknownDiskType": unknown_type,
        "deleted": deleted.deleted,
        "health": health_pb2.HealthCheckResponse.ServingStatus.Name(health.status),
        "services": services,
    }))
    """

private struct PythonStubFindings: Decodable {
    var createdType: String
    var state: String
    var gotBinary: String
    var processListed: Bool
    var resume: [String]
    var deleteTarget: [String]
    var metrics: [String]
    var unknownDiskType: [String]
    var deleted: Bool
    var health: String
    var services: [String]
}

@Suite(.timeLimit(.minutes(3))) struct PythonStubTests {
    @Test func pythonStubsCompiledFromTheProtoFilesDriveTheInstanceManager() async throws {
        let protoDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("proto").path
        let scratch = try ScratchSpace()
        let tgt = try Tgt(scratch, name: "tgt")
        let manager = try ManagerProcess(scratch, name: "im", tgt: tgt)
        let (status, output) = try await runTool([
            "python3", "-c", pythonStubClient, protoDirectory, String(manager.basePort), "/bin/sleep",
        ])
        try #require(status == 0, "python3's grpc client failed: \(output)")
        let line = output.split(separator: "\n").last.map(String.init) ?? ""
        let found = try JSONDecoder().decode(PythonStubFindings.self, from: Data(line.utf8))
        #expect(found.createdType == "replica" && found.state == "running" && found.gotBinary == "/bin/sleep")
        #expect(found.processListed)
        #expect(found.resume == ["UNIMPLEMENTED", "V1 instances cannot resume"], "\(found.resume)")
        #expect(found.deleteTarget.first == "UNIMPLEMENTED", "\(found.deleteTarget)")
        #expect(found.metrics.first == "NOT_FOUND" && found.metrics.last?.contains("cannot find") == true, "\(found.metrics)")
        #expect(found.unknownDiskType.first == "INVALID_ARGUMENT", "\(found.unknownDiskType)")
        #expect(found.deleted)
        #expect(found.health == "SERVING")
        #expect(found.services.contains("imrpc.InstanceService") && found.services.contains("grpc.health.v1.Health"))
    }
}
