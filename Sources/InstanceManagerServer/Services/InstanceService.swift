// imrpc.InstanceService (longhorn-api.md §3.3): instances of either data engine behind one API.
// Requests dispatch on `data_engine`: V1 instances are processes of the ProcessSupervisor, V2
// instances are replicas and engines of V2Instances (when the SPDK data engine is enabled), by the
// `type` string. What Longhorn's V2 engine (G1) does not offer (suspend/resume, target switchover,
// V2 logs and replace) answers Unimplemented. Every handler runs in `withRPCErrors`.

public import GRPCCore
public import InstanceManager
public import InstanceManagerAPI
public import SwiftProtobuf
import Synchronization

public final class InstanceService: Imrpc_InstanceService.SimpleServiceProtocol {
    public let processes: ProcessSupervisor
    /// Nil when the SPDK (V2) data engine is not enabled.
    public let v2: V2Instances?
    private let build: InstanceManagerBuild
    private let shutdown: StreamShutdown
    /// The type each V1 process was created with ("engine", "replica"), by name.
    private let processTypes = Mutex<[String: String]>([:])

    public init(
        processes: ProcessSupervisor, v2: V2Instances?, build: InstanceManagerBuild, shutdown: StreamShutdown
    ) {
        self.processes = processes
        self.v2 = v2
        self.build = build
        self.shutdown = shutdown
    }

    // MARK: Dispatch

    private enum Engine {
        case v1
        case v2(V2Instances)
    }

    private func engine(_ dataEngine: Imrpc_DataEngine) throws(InstanceManagerError) -> Engine {
        switch dataEngine {
        case .v1: return .v1
        case .v2:
            guard let v2 else {
                throw InstanceManagerError(
                    .failedPrecondition, "the V2 data engine is not enabled on this instance manager (--spdk-enabled)")
            }
            return .v2(v2)
        case .UNRECOGNIZED(let value):
            throw .invalidArgument("unknown data engine \(value)")
        }
    }

    private static func unknownType(_ type: String) -> InstanceManagerError {
        .invalidArgument("unknown instance type \"\(type)\" (want \"engine\" or \"replica\")")
    }

    private func typeOfProcess(_ name: String) -> String {
        processTypes.withLock { $0[name] ?? "" }
    }

    // MARK: Create, delete, get, list

    public func instanceCreate(
        request: Imrpc_InstanceCreateRequest, context: ServerContext
    ) async throws -> Imrpc_InstanceResponse {
        try await withRPCErrors {
            let spec = request.spec
            guard !spec.name.isEmpty else { throw InstanceManagerError.invalidArgument("instance name is required") }
            switch try engine(spec.dataEngine) {
            case .v1:
                guard spec.hasProcessInstanceSpec else {
                    throw InstanceManagerError.invalidArgument("V1 instance \(spec.name) has no process_instance_spec")
                }
                guard spec.type == InstanceType.engine || spec.type == InstanceType.replica else {
                    throw Self.unknownType(spec.type)
                }
                let created = try await processes.create(Self.processSpec(spec))
                processTypes.withLock { $0[spec.name] = spec.type }
                return .process(created, type: spec.type)
            case .v2(let v2):
                let spdk = spec.spdkInstanceSpec
                switch spec.type {
                case InstanceType.replica:
                    let replica = try await v2.replicaCreate(
                        name: spec.name, lvsName: spdk.lvsName.isEmpty ? spdk.diskName : spdk.lvsName,
                        lvsUUID: spdk.lvsUuid.isEmpty ? spdk.diskUuid : spdk.lvsUuid, specSize: spdk.size,
                        portCount: spec.portCount, backingImageName: spdk.backingImageName)
                    return .replica(replica)
                case InstanceType.engine:
                    let engine = try await v2.engineCreate(
                        name: spec.name, volumeName: spec.volumeName, specSize: spdk.size,
                        replicaAddressMap: spdk.replicaAddressMap, frontend: spdk.frontend)
                    return .engine(engine)
                default:
                    throw Self.unknownType(spec.type)
                }
            }
        }
    }

    static func processSpec(_ spec: Imrpc_InstanceSpec) -> InstanceManager.ProcessSpec {
        InstanceManager.ProcessSpec(
            name: spec.name, binary: spec.processInstanceSpec.binary, args: spec.processInstanceSpec.args,
            portCount: Int(spec.portCount), portArgs: spec.portArgs)
    }

    public func instanceDelete(
        request: Imrpc_InstanceDeleteRequest, context: ServerContext
    ) async throws -> Imrpc_InstanceResponse {
        try await withRPCErrors {
            guard !request.name.isEmpty else { throw InstanceManagerError.invalidArgument("instance name is required") }
            switch try engine(request.dataEngine) {
            case .v1:
                let type = typeOfProcess(request.name)
                let deleted = try await processes.delete(name: request.name, uuid: request.uuid)
                return .process(deleted, type: type)
            case .v2(let v2):
                switch request.type {
                case InstanceType.replica:
                    try await v2.replicaDelete(name: request.name, cleanupRequired: request.cleanupRequired)
                case InstanceType.engine:
                    // As Longhorn's: an engine goes only when cleanup is asked for (the manager always asks).
                    if request.cleanupRequired {
                        try await v2.engineDelete(name: request.name)
                    } else {
                        _ = try await v2.engineGet(name: request.name)
                    }
                default:
                    throw Self.unknownType(request.type)
                }
                return .deletedV2(name: request.name, type: request.type)
            }
        }
    }

    public func instanceGet(
        request: Imrpc_InstanceGetRequest, context: ServerContext
    ) async throws -> Imrpc_InstanceResponse {
        try await withRPCErrors {
            guard !request.name.isEmpty else { throw InstanceManagerError.invalidArgument("instance name is required") }
            switch try engine(request.dataEngine) {
            case .v1:
                return .process(try await processes.get(name: request.name), type: typeOfProcess(request.name))
            case .v2(let v2):
                switch request.type {
                case InstanceType.replica: return .replica(try await v2.replicaGet(name: request.name))
                case InstanceType.engine: return .engine(try await v2.engineGet(name: request.name))
                default: throw Self.unknownType(request.type)
                }
            }
        }
    }

    public func instanceList(
        request: Google_Protobuf_Empty, context: ServerContext
    ) async throws -> Imrpc_InstanceListResponse {
        try await withRPCErrors {
            var response = Imrpc_InstanceListResponse()
            let types = processTypes.withLock { $0 }
            for (name, process) in await processes.list() {
                response.instances[name] = .process(process, type: types[name] ?? "")
            }
            if let v2 {
                for (name, replica) in await v2.replicaList() { response.instances[name] = .replica(replica) }
                for (name, engine) in await v2.engineList() { response.instances[name] = .engine(engine) }
            }
            return response
        }
    }

    // MARK: Streams

    public func instanceLog(
        request: Imrpc_InstanceLogRequest, response: RPCWriter<LogResponse>, context: ServerContext
    ) async throws {
        let lines = try await withRPCErrors { () async throws -> AsyncStream<String> in
            guard !request.name.isEmpty else { throw InstanceManagerError.invalidArgument("instance name is required") }
            switch try engine(request.dataEngine) {
            case .v1: return try await processes.log(name: request.name)
            case .v2: throw InstanceManagerError(.unimplemented, "V2 instances have no log of their own")
            }
        }
        let stop = shutdown.signal()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await line in lines {
                    var message = LogResponse()
                    message.line = line
                    try await response.write(message)
                }
            }
            group.addTask { for await _ in stop {} }
            _ = try await group.next()
            group.cancelAll()
        }
    }

    public func instanceWatch(
        request: Google_Protobuf_Empty, response: RPCWriter<Google_Protobuf_Empty>, context: ServerContext
    ) async throws {
        let sources = [processes.changes] + (v2.map { [$0.changes] } ?? [])
        try await forwardChanges(from: sources, until: shutdown, message: Google_Protobuf_Empty()) { message in
            try await response.write(message)
        }
    }

    // MARK: Replace, suspend, resume, targets

    public func instanceReplace(
        request: Imrpc_InstanceReplaceRequest, context: ServerContext
    ) async throws -> Imrpc_InstanceResponse {
        try await withRPCErrors {
            let spec = request.spec
            guard !spec.name.isEmpty else { throw InstanceManagerError.invalidArgument("instance name is required") }
            switch try engine(spec.dataEngine) {
            case .v1:
                guard spec.hasProcessInstanceSpec else {
                    throw InstanceManagerError.invalidArgument("V1 instance \(spec.name) has no process_instance_spec")
                }
                let replaced = try await processes.replace(Self.processSpec(spec), terminateSignal: request.terminateSignal)
                return .process(replaced, type: typeOfProcess(spec.name))
            case .v2:
                throw InstanceManagerError(.unimplemented, "V2 instances cannot be replaced")
            }
        }
    }

    public func instanceSuspend(
        request: Imrpc_InstanceSuspendRequest, context: ServerContext
    ) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors { try suspendOrResume("suspend", request.dataEngine, request.type) }
    }

    public func instanceResume(
        request: Imrpc_InstanceResumeRequest, context: ServerContext
    ) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors { try suspendOrResume("resume", request.dataEngine, request.type) }
    }

    /// Suspend and resume exist for V2 engine frontends, which this instance manager does not
    /// have: a replica cannot be suspended (InvalidArgument), the rest is Unimplemented.
    private func suspendOrResume(
        _ action: String, _ dataEngine: Imrpc_DataEngine, _ type: String
    ) throws(InstanceManagerError) -> Google_Protobuf_Empty {
        switch try engine(dataEngine) {
        case .v1:
            throw InstanceManagerError(.unimplemented, "V1 instances cannot \(action)")
        case .v2:
            guard type != InstanceType.replica else { throw .invalidArgument("a replica cannot \(action)") }
            throw InstanceManagerError(.unimplemented, "\(action) of a V2 \(type.isEmpty ? "instance" : type) is not supported")
        }
    }

    public func instanceSwitchOverTarget(
        request: Imrpc_InstanceSwitchOverTargetRequest, context: ServerContext
    ) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors {
            _ = try engine(request.dataEngine)
            throw InstanceManagerError(.unimplemented, "target switchover is not supported")
        }
    }

    public func instanceDeleteTarget(
        request: Imrpc_InstanceDeleteTargetRequest, context: ServerContext
    ) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors {
            _ = try engine(request.dataEngine)
            throw InstanceManagerError(.unimplemented, "deleting a standby target is not supported")
        }
    }

    // MARK: Log settings, version

    private func v2ForLogs(_ dataEngine: Imrpc_DataEngine) throws(InstanceManagerError) -> V2Instances {
        switch try engine(dataEngine) {
        case .v1: throw InstanceManagerError(.unimplemented, "log settings apply to the V2 data engine only")
        case .v2(let v2): return v2
        }
    }

    public func logSetLevel(request: Imrpc_LogSetLevelRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors {
            try await v2ForLogs(request.dataEngine).logSetLevel(request.level)
            return Google_Protobuf_Empty()
        }
    }

    public func logSetFlags(request: Imrpc_LogSetFlagsRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors {
            try await v2ForLogs(request.dataEngine).logSetFlags(request.flags)
            return Google_Protobuf_Empty()
        }
    }

    public func logGetLevel(
        request: Imrpc_LogGetLevelRequest, context: ServerContext
    ) async throws -> Imrpc_LogGetLevelResponse {
        try await withRPCErrors {
            var response = Imrpc_LogGetLevelResponse()
            response.level = try await v2ForLogs(request.dataEngine).logGetLevel()
            return response
        }
    }

    public func logGetFlags(
        request: Imrpc_LogGetFlagsRequest, context: ServerContext
    ) async throws -> Imrpc_LogGetFlagsResponse {
        try await withRPCErrors {
            var response = Imrpc_LogGetFlagsResponse()
            response.flags = try await v2ForLogs(request.dataEngine).logGetFlags()
            return response
        }
    }

    public func versionGet(request: Google_Protobuf_Empty, context: ServerContext) async throws -> VersionResponse {
        .instanceManager(build)
    }
}
