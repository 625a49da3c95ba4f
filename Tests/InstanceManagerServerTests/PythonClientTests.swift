// An independent gRPC implementation (PyPI's grpcio, grpcio-reflection and grpcio-health-checking,
// installed by scripts/test.sh) against the servers: its reflection client (v1alpha) rebuilds the
// instance manager's descriptors and its health stub checks the server, over loopback.

import Foundation
import InstanceManagerServer
import TestSupport
import Testing

/// Asks the server at 127.0.0.1:PORT through Python's grpc and prints what it found as JSON.
private let pythonClient = """
    import json, sys
    import grpc
    from google.protobuf.descriptor_pool import DescriptorPool
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

    channel = grpc.insecure_channel("127.0.0.1:" + sys.argv[1])
    grpc.channel_ready_future(channel).result(timeout=20)
    database = ProtoReflectionDescriptorDatabase(channel)
    pool = DescriptorPool(database)
    instance = pool.FindServiceByName("imrpc.InstanceService")
    spec = pool.FindMessageTypeByName("imrpc.InstanceSpec")
    processes = pool.FindServiceByName("ProcessManagerService")
    spdk = pool.FindServiceByName("spdkrpc.SPDKService")
    health = health_pb2_grpc.HealthStub(channel)
    status = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=20).status
    print(json.dumps({
        "services": sorted(database.get_services()),
        "instanceMethods": [method.name for method in instance.methods],
        "dataEngineNumber": spec.fields_by_name["data_engine"].number,
        "dataEngineType": spec.fields_by_name["data_engine"].enum_type.full_name,
        "processListOutput": processes.methods_by_name["ProcessList"].output_type.full_name,
        "spdkMethodCount": len(spdk.methods),
        "health": health_pb2.HealthCheckResponse.ServingStatus.Name(status),
    }))
    """

private struct PythonFindings: Decodable {
    var services: [String]
    var instanceMethods: [String]
    var dataEngineNumber: Int
    var dataEngineType: String
    var processListOutput: String
    var spdkMethodCount: Int
    var health: String
}

/// Runs the Python client against `port` without blocking a thread; returns its exit status and
/// standard output.
private func runPythonClient(port: Int) async throws -> (status: Int32, output: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", pythonClient, String(port)]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    // Read on a thread of its own: a blocked reader on the tasks' shared pool could hold the
    // thread the servers under test need to answer the client.
    let reader = BackgroundThread { output.fileHandleForReading.readDataToEndOfFile() }
    let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    return (status, try await reader.value())
}

@Suite struct PythonClientTests {
    @Test func pythonGRPCReflectsAndChecksHealth() async throws {
        let servers = try InstanceManagerServers(
            endpoints: [InstanceManagerEndpoint(host: "127.0.0.1", port: 0, services: [])],
            reflection: .instanceManager()
        )
        let (status, output) = try await withRunning(servers) { ports in
            try await runPythonClient(port: ports[0])
        }
        try #require(
            status == 0,
            "python3's grpc client failed; scripts/test.sh installs it (pip install grpcio grpcio-reflection grpcio-health-checking)"
        )
        let found = try JSONDecoder().decode(PythonFindings.self, from: output)
        #expect(
            found.services == [
                "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                "grpc.reflection.v1alpha.ServerReflection",
            ]
        )
        #expect(found.instanceMethods.first == "InstanceCreate")
        #expect(found.instanceMethods.count == 16)
        #expect(found.dataEngineNumber == 9)
        #expect(found.dataEngineType == "imrpc.DataEngine")
        #expect(found.processListOutput == "ProcessListResponse")
        #expect(found.spdkMethodCount == 93)
        #expect(found.health == "SERVING")
    }
}
