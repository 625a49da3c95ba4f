// The SPDK service (spdkrpc, longhorn-api.md §3.6), served on the listen port + 4 with
// --spdk-enabled: replicas, engines, an engine's replicas, disks, the tgt's log settings and the
// version, over the node's V2Instances. Watches send an Empty on every change of a disk, replica
// or engine until the client goes away. Every other RPC answers Unimplemented
// (SPDKService+Unimplemented.swift).

public import GRPCCore
public import InstanceManager
public import InstanceManagerAPI
public import SwiftProtobuf

public struct SPDKService: Spdkrpc_SPDKService.SimpleServiceProtocol {
    public let instances: V2Instances
    public let build: InstanceManagerBuild

    public init(instances: V2Instances, build: InstanceManagerBuild) {
        self.instances = instances
        self.build = build
    }

    // MARK: Replicas

    public func replicaCreate(request: Spdkrpc_ReplicaCreateRequest, context: ServerContext) async throws -> Spdkrpc_Replica {
        try await withRPCErrors {
            Spdkrpc_Replica(
                try await instances.replicaCreate(
                    name: request.name, lvsName: request.lvsName, lvsUUID: request.lvsUuid, specSize: request.specSize,
                    portCount: request.portCount, backingImageName: request.backingImageName))
        }
    }

    public func replicaDelete(request: Spdkrpc_ReplicaDeleteRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors {
            try Self.requireName(request.name, of: "replica")
            try await instances.replicaDelete(name: request.name, cleanupRequired: request.cleanupRequired)
            return Google_Protobuf_Empty()
        }
    }

    public func replicaGet(request: Spdkrpc_ReplicaGetRequest, context: ServerContext) async throws -> Spdkrpc_Replica {
        try await withRPCErrors {
            try Self.requireName(request.name, of: "replica")
            return Spdkrpc_Replica(try await instances.replicaGet(name: request.name))
        }
    }

    public func replicaList(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Spdkrpc_ReplicaListResponse {
        var response = Spdkrpc_ReplicaListResponse()
        response.replicas = await instances.replicaList().mapValues(Spdkrpc_Replica.init)
        return response
    }

    public func replicaWatch(
        request: Google_Protobuf_Empty, response: RPCWriter<Google_Protobuf_Empty>, context: ServerContext
    ) async throws {
        try await watch(response)
    }

    // MARK: Engines

    public func engineCreate(request: Spdkrpc_EngineCreateRequest, context: ServerContext) async throws -> Spdkrpc_Engine {
        try await withRPCErrors {
            guard request.dataLayoutType == .replicated else {
                throw InstanceManagerError(.unimplemented, "data layout \(request.dataLayoutType) is not supported")
            }
            return Spdkrpc_Engine(
                try await instances.engineCreate(
                    name: request.name, volumeName: request.volumeName, specSize: request.specSize,
                    replicaAddressMap: request.replicaAddressMap, frontend: request.frontend))
        }
    }

    public func engineDelete(request: Spdkrpc_EngineDeleteRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors {
            try await instances.engineDelete(name: request.name)
            return Google_Protobuf_Empty()
        }
    }

    public func engineGet(request: Spdkrpc_EngineGetRequest, context: ServerContext) async throws -> Spdkrpc_Engine {
        try await withRPCErrors {
            try Self.requireName(request.name, of: "engine")
            return Spdkrpc_Engine(try await instances.engineGet(name: request.name))
        }
    }

    public func engineList(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Spdkrpc_EngineListResponse {
        var response = Spdkrpc_EngineListResponse()
        response.engines = await instances.engineList().mapValues(Spdkrpc_Engine.init)
        return response
    }

    public func engineWatch(
        request: Google_Protobuf_Empty, response: RPCWriter<Google_Protobuf_Empty>, context: ServerContext
    ) async throws {
        try await watch(response)
    }

    /// The engine's replicas: a replica of this node as it is here; one elsewhere with what the
    /// engine knows of it (name, address, and its mode as a state: RW running, else error).
    public func engineReplicaList(
        request: Spdkrpc_EngineReplicaListRequest, context: ServerContext
    ) async throws -> Spdkrpc_EngineReplicaListResponse {
        try await withRPCErrors {
            try Self.requireName(request.engineName, of: "engine")
            let engine = try await instances.engineGet(name: request.engineName)
            let local = await instances.replicaList()
            var response = Spdkrpc_EngineReplicaListResponse()
            for (name, address) in engine.replicaAddressMap {
                let (ip, port) = Self.split(address)
                if let replica = local[name], replica.ip == ip, replica.portStart == port {
                    response.replicas[name] = Spdkrpc_Replica(replica)
                    continue
                }
                var remote = Spdkrpc_Replica()
                remote.name = name
                remote.ip = ip
                remote.portStart = port
                remote.portEnd = port
                remote.state = engine.replicaModeMap[name] == .rw ? V2InstanceState.running.rawValue : V2InstanceState.error.rawValue
                response.replicas[name] = remote
            }
            return response
        }
    }

    public func engineReplicaAdd(request: Spdkrpc_EngineReplicaAddRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors {
            try Self.requireName(request.engineName, of: "engine")
            guard request.engineFrontendName.isEmpty else {
                throw InstanceManagerError(.unimplemented, "engine frontends are not supported (\(request.engineFrontendName))")
            }
            try await instances.engineReplicaAdd(
                engineName: request.engineName, replicaName: request.replicaName, replicaAddress: request.replicaAddress)
            return Google_Protobuf_Empty()
        }
    }

    public func engineReplicaDelete(
        request: Spdkrpc_EngineReplicaDeleteRequest, context: ServerContext
    ) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors {
            try await instances.engineReplicaDelete(
                engineName: request.engineName, replicaName: request.replicaName, replicaAddress: request.replicaAddress)
            return Google_Protobuf_Empty()
        }
    }

    // MARK: Disks

    public func diskCreate(request: Spdkrpc_DiskCreateRequest, context: ServerContext) async throws -> Spdkrpc_Disk {
        try await withRPCErrors {
            try Self.requireAIO(request.diskDriver)
            return Spdkrpc_Disk(
                try await instances.diskCreate(
                    name: request.diskName, uuid: request.diskUuid, path: request.diskPath, blockSize: request.blockSize))
        }
    }

    public func diskGet(request: Spdkrpc_DiskGetRequest, context: ServerContext) async throws -> Spdkrpc_Disk {
        try await withRPCErrors {
            try Self.requireName(request.diskName, of: "disk")
            return Spdkrpc_Disk(try await instances.diskGet(name: request.diskName))
        }
    }

    public func diskDelete(request: Spdkrpc_DiskDeleteRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors {
            try Self.requireName(request.diskName, of: "disk")
            try await instances.diskDelete(name: request.diskName, uuid: request.diskUuid)
            return Google_Protobuf_Empty()
        }
    }

    // MARK: Log and version

    public func logSetLevel(request: Spdkrpc_LogSetLevelRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors {
            try await instances.logSetLevel(request.level)
            return Google_Protobuf_Empty()
        }
    }

    public func logSetFlags(request: Spdkrpc_LogSetFlagsRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors {
            try await instances.logSetFlags(request.flags)
            return Google_Protobuf_Empty()
        }
    }

    public func logGetLevel(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Spdkrpc_LogGetLevelResponse {
        try await withRPCErrors {
            var response = Spdkrpc_LogGetLevelResponse()
            response.level = try await instances.logGetLevel()
            return response
        }
    }

    public func logGetFlags(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Spdkrpc_LogGetFlagsResponse {
        try await withRPCErrors {
            var response = Spdkrpc_LogGetFlagsResponse()
            response.flags = try await instances.logGetFlags()
            return response
        }
    }

    public func versionDetailGet(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Spdkrpc_VersionDetailGetReply {
        var reply = Spdkrpc_VersionDetailGetReply()
        reply.version.version = build.version
        reply.version.gitCommit = build.gitCommit
        reply.version.buildDate = build.buildDate
        return reply
    }

    // MARK: Helpers

    /// Sends an Empty on every change until the client goes away or the changes end.
    private func watch(_ response: RPCWriter<Google_Protobuf_Empty>) async throws {
        let changes = instances.changes.subscribe()
        try await withRPCErrors {
            try await untilRPCCancelled {
                for await _ in changes {
                    try await response.write(Google_Protobuf_Empty())
                }
            }
        }
    }

    static func requireName(_ name: String, of kind: String) throws(InstanceManagerError) {
        guard !name.isEmpty else { throw .invalidArgument("\(kind) name is required") }
    }

    /// The disk driver: "" or "aio" (the only one the tgt offers for a disk).
    static func requireAIO(_ driver: String) throws(InstanceManagerError) {
        guard driver.isEmpty || driver == "aio" else {
            throw .invalidArgument("unsupported disk driver \"\(driver)\": use aio")
        }
    }

    /// "ip:port" (or "[ip6]:port") as the IP and the port; port 0 when there is none.
    static func split(_ address: String) -> (ip: String, port: Int32) {
        guard let colon = address.lastIndex(of: ":"), let port = Int32(address[address.index(after: colon)...]) else {
            return (address, 0)
        }
        var ip = address[..<colon]
        if ip.hasPrefix("["), ip.hasSuffix("]") { ip = ip.dropFirst().dropLast() }
        return (String(ip), port)
    }
}
