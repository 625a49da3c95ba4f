// A second gRPC implementation against a real `hornbill instance-manager`: Python's grpcio learns
// the instance service's messages through server reflection alone (no .proto files, no generated
// stubs), creates a V1 process instance, finds it in InstanceList and deletes it. So the wire
// format of InstanceCreate, InstanceList and InstanceDelete is checked by code that shares nothing
// with the Swift side.

import Foundation
import Testing

/// Prints what it saw as JSON; argv: port, the binary the instance runs.
private let pythonInstanceClient = """
    import json, sys, time
    import grpc
    from google.protobuf import empty_pb2
    from google.protobuf.descriptor_pool import DescriptorPool
    from google.protobuf.message_factory import GetMessageClass
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

    channel = grpc.insecure_channel("127.0.0.1:" + sys.argv[1])
    grpc.channel_ready_future(channel).result(timeout=20)
    pool = DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
    message = lambda name: GetMessageClass(pool.FindMessageTypeByName(name))
    CreateRequest = message("imrpc.InstanceCreateRequest")
    DeleteRequest = message("imrpc.InstanceDeleteRequest")
    Response = message("imrpc.InstanceResponse")
    ListResponse = message("imrpc.InstanceListResponse")

    def call(method, request_class, response_class):
        return channel.unary_unary(
            "/imrpc.InstanceService/" + method,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_class.FromString)

    create = call("InstanceCreate", CreateRequest, Response)
    listing = call("InstanceList", empty_pb2.Empty, ListResponse)
    delete = call("InstanceDelete", DeleteRequest, Response)

    request = CreateRequest()
    request.spec.name = "py-sleeper"
    request.spec.type = "replica"
    request.spec.data_engine = 0
    request.spec.process_instance_spec.binary = sys.argv[2]
    request.spec.process_instance_spec.args.extend(["600"])
    created = create(request, timeout=20)

    listed = {}
    for _ in range(200):
        listed = listing(empty_pb2.Empty(), timeout=20).instances
        if listed["py-sleeper"].status.state == "running":
            break
        time.sleep(0.05)
    entry = listed["py-sleeper"]
    missing = None
    try:
        bad = DeleteRequest()
        bad.name = "py-nobody"
        bad.type = "replica"
        delete(bad, timeout=20)
    except grpc.RpcError as error:
        missing = [error.code().name, error.details()]
    gone = DeleteRequest()
    gone.name = "py-sleeper"
    gone.type = "replica"
    deleted = delete(gone, timeout=20)
    print(json.dumps({
        "createdType": created.spec.type,
        "listedBinary": entry.spec.process_instance_spec.binary,
        "listedState": entry.status.state,
        "deleted": deleted.deleted,
        "missing": missing,
    }))
    """

private struct PythonInstanceFindings: Decodable {
    var createdType: String
    var listedBinary: String
    var listedState: String
    var deleted: Bool
    var missing: [String]?
}

@Suite(.timeLimit(.minutes(2))) struct PythonInstanceListTests {
    @Test func pythonGRPCCreatesListsAndDeletesThroughReflectedTypes() async throws {
        let scratch = try ScratchSpace()
        let tgt = try Tgt(scratch, name: "tgt")
        let manager = try ManagerProcess(scratch, name: "im", tgt: tgt)
        let (status, output) = try await runTool([
            "python3", "-c", pythonInstanceClient, String(manager.instancePort), "/bin/sleep",
        ])
        try #require(status == 0, "python3's grpc client failed: \(output)")
        let line = output.split(separator: "\n").last.map(String.init) ?? ""
        let found = try JSONDecoder().decode(PythonInstanceFindings.self, from: Data(line.utf8))
        #expect(found.createdType == "replica")
        #expect(found.listedBinary == "/bin/sleep")
        #expect(found.listedState == "running")
        #expect(found.deleted)
        #expect(found.missing?.first == "NOT_FOUND")
        #expect(found.missing?.last?.contains("cannot find") == true)
    }
}
