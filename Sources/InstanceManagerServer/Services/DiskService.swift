// imrpc.DiskService (longhorn-api.md §3.4): block disks of the V2 data engine, each an aio bdev
// with an lvstore in the node's tgt (V2Instances). Filesystem disks are the manager's own business
// (Unimplemented here). Disk health (an NVMe SMART log) and I/O metrics are not offered for aio
// disks: both answer Unimplemented with the reason. Every handler runs in `withRPCErrors`.

public import GRPCCore
public import InstanceManager
public import InstanceManagerAPI
public import SwiftProtobuf

public final class DiskService: Imrpc_DiskService.SimpleServiceProtocol {
    /// Nil when the SPDK (V2) data engine is not enabled.
    public let v2: V2Instances?
    private let build: InstanceManagerBuild

    public init(v2: V2Instances?, build: InstanceManagerBuild) {
        self.v2 = v2
        self.build = build
    }

    /// The disk drivers a block disk may name: aio, or the choice left to the instance manager.
    static let drivers: Set<String> = ["", "aio", "auto"]

    /// V2Instances for a request about a block disk with `driver`.
    private func blockDisks(_ type: Imrpc_DiskType, driver: String) throws(InstanceManagerError) -> V2Instances {
        switch type {
        case .block: break
        case .filesystem: throw InstanceManagerError(.unimplemented, "filesystem disks are not served by the instance manager")
        case .UNRECOGNIZED(let value): throw .invalidArgument("unknown disk type \(value)")
        }
        guard Self.drivers.contains(driver) else {
            throw InstanceManagerError(.unimplemented, "disk driver \"\(driver)\" is not supported (aio only)")
        }
        guard let v2 else {
            throw InstanceManagerError(
                .failedPrecondition, "the V2 data engine is not enabled on this instance manager (--spdk-enabled)")
        }
        return v2
    }

    private static func requireName(_ name: String) throws(InstanceManagerError) {
        guard !name.isEmpty else { throw .invalidArgument("disk name is required") }
    }

    public func diskCreate(request: Imrpc_DiskCreateRequest, context: ServerContext) async throws -> Imrpc_Disk {
        try await withRPCErrors {
            let disks = try blockDisks(request.diskType, driver: request.diskDriver)
            try Self.requireName(request.diskName)
            return Imrpc_Disk(
                try await disks.diskCreate(
                    name: request.diskName, uuid: request.diskUuid, path: request.diskPath, blockSize: request.blockSize))
        }
    }

    public func diskDelete(request: Imrpc_DiskDeleteRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors {
            let disks = try blockDisks(request.diskType, driver: request.diskDriver)
            try Self.requireName(request.diskName)
            try await disks.diskDelete(name: request.diskName, uuid: request.diskUuid)
            return Google_Protobuf_Empty()
        }
    }

    public func diskGet(request: Imrpc_DiskGetRequest, context: ServerContext) async throws -> Imrpc_Disk {
        try await withRPCErrors {
            let disks = try blockDisks(request.diskType, driver: request.diskDriver)
            try Self.requireName(request.diskName)
            return Imrpc_Disk(try await disks.diskGet(name: request.diskName))
        }
    }

    public func diskHealthGet(
        request: Imrpc_DiskHealthGetRequest, context: ServerContext
    ) async throws -> Imrpc_DiskHealthGetResponse {
        try await withRPCErrors {
            let disks = try blockDisks(request.diskType, driver: request.diskDriver)
            try Self.requireName(request.diskName)
            _ = try await disks.diskGet(name: request.diskName)
            throw InstanceManagerError(
                .unimplemented, "disk \(request.diskName) is an aio disk: health (an NVMe SMART log) is not available")
        }
    }

    public func diskReplicaInstanceList(
        request: Imrpc_DiskReplicaInstanceListRequest, context: ServerContext
    ) async throws -> Imrpc_DiskReplicaInstanceListResponse {
        try await withRPCErrors {
            let disks = try blockDisks(request.diskType, driver: request.diskDriver)
            var response = Imrpc_DiskReplicaInstanceListResponse()
            for (name, instance) in try await disks.diskReplicaInstanceList(diskName: request.diskName) {
                var message = Imrpc_ReplicaInstance()
                message.name = instance.name
                message.uuid = instance.uuid
                message.diskName = instance.diskName
                message.diskUuid = instance.diskUUID
                message.specSize = instance.specSize
                message.actualSize = instance.actualSize
                response.replicaInstances[name] = message
            }
            return response
        }
    }

    public func diskReplicaInstanceDelete(
        request: Imrpc_DiskReplicaInstanceDeleteRequest, context: ServerContext
    ) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors {
            let disks = try blockDisks(request.diskType, driver: request.diskDriver)
            try await disks.diskReplicaInstanceDelete(
                diskName: request.diskName, diskUUID: request.diskUuid, instanceName: request.replciaInstanceName)
            return Google_Protobuf_Empty()
        }
    }

    public func metricsGet(request: Imrpc_DiskGetRequest, context: ServerContext) async throws -> Imrpc_DiskMetricsGetReply {
        try await withRPCErrors {
            let disks = try blockDisks(request.diskType, driver: request.diskDriver)
            try Self.requireName(request.diskName)
            _ = try await disks.diskGet(name: request.diskName)
            throw InstanceManagerError(.unimplemented, "disk metrics are not collected (disk \(request.diskName))")
        }
    }

    public func versionGet(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Imrpc_DiskVersionResponse {
        .diskService(build)
    }
}

extension Imrpc_Disk {
    init(_ disk: DiskInfo) {
        self.init()
        id = disk.id
        uuid = disk.uuid
        path = disk.path
        type = disk.type
        totalSize = disk.totalSize
        freeSize = disk.freeSize
        totalBlocks = disk.totalBlocks
        freeBlocks = disk.freeBlocks
        blockSize = disk.blockSize
        clusterSize = disk.clusterSize
        driver = disk.driver
        name = disk.name
        state = disk.state.rawValue
    }
}
