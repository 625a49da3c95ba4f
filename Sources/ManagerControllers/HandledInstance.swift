// What differs between the two kinds of instance the handler runs, Replica and Engine
// (longhorn-api.md §3.8, §7.3, §7.4): the create request, the `cleanup_required` of a stop, what
// a running engine also reports (endpoint, size, replica modes, through the instance manager's
// proxy, which also takes out of it the replicas its spec no longer names), and what is left on
// disk once a V1 replica is deleted (its data directory).

import Foundation
import InstanceManagerAPI
public import ManagerModel
import ManagerStore

/// What the handler needs of this node.
public struct InstanceHandlerConfiguration: Sendable {
    public var nodeName: String
    /// The node's storage address: where its instances listen (`status.ip`, `status.storageIP`).
    public var address: String
    public var instanceManagers: InstanceManagerAddresses
    /// The instance managers' image (their resource names derive from it).
    public var image: String
    public var v1Launch: V1ProcessLaunch

    public init(
        nodeName: String, address: String, instanceManagers: InstanceManagerAddresses, v1Launch: V1ProcessLaunch,
        image: String = InstanceManager.defaultImage
    ) {
        self.nodeName = nodeName
        self.address = address
        self.instanceManagers = instanceManagers
        self.v1Launch = v1Launch
        self.image = image
    }
}

/// An Engine or a Replica as the instance handler runs it.
protocol HandledInstance: StoredResourceType, Equatable {
    /// The instance type string ("engine", "replica").
    static var instanceType: String { get }
    /// `cleanup_required` when the instance is stopped, not deleted (false for a replica: a V2
    /// replica's lvols stay; true for an engine, always).
    static var cleanupOnStop: Bool { get }
    var metadata: ResourceMetadata { get }
    var instance: InstanceSpec { get }
    var instanceStatus: InstanceStatus { get set }
    /// `disk_uuid` of a delete.
    var diskUUID: String { get }
    /// Records in the status what the instance is created with (the engine's replica addresses).
    mutating func prepareForCreate()
    /// The create request; throws InstanceCreateRefusal when the instance cannot be created.
    func createRequest(configuration: InstanceHandlerConfiguration, store: any ResourceStore) async throws
        -> Imrpc_InstanceSpec
    /// Whether the instance manager's refusal to create the instance means that something it
    /// needs is not there yet (created again later), not that it failed.
    func createWaits(after error: InstanceCallError) -> Bool
    /// Reads what a running instance reports beyond its state; false when it could not yet.
    mutating func observeRunning(client: InstanceServiceClient) async -> Bool
    /// Forgets what only a running instance has.
    mutating func clearRunning()
    /// Removes what the instance leaves on this node once deleted.
    func removeData() throws
    /// The type of the instances whose changes this resource follows ("replica" for an engine,
    /// none for a replica).
    static var followedType: String { get }
    /// The names of the resources that use one of the instances `names` of `followedType`.
    static func followers(of names: Set<String>, store: any ResourceStore) async throws -> Set<String>
}

extension Replica: HandledInstance {
    static var instanceType: String { InstanceCreateRequests.replicaType }
    static var cleanupOnStop: Bool { false }
    var instance: InstanceSpec { spec.instance }
    var instanceStatus: InstanceStatus {
        get { status }
        set { status = newValue }
    }
    var diskUUID: String { spec.diskID }

    func prepareForCreate() {}

    func createRequest(configuration: InstanceHandlerConfiguration, store: any ResourceStore) async throws
        -> Imrpc_InstanceSpec
    {
        switch spec.dataEngine {
        case .v1:
            return try InstanceCreateRequests.v1Replica(
                self, address: configuration.address, launch: configuration.v1Launch)
        case .v2:
            let node = try await store.get(Node.self, configuration.nodeName)?.value
            let disk = node?.status.diskStatus.values.first { !spec.diskID.isEmpty && $0.diskUUID == spec.diskID }
            guard let disk, !disk.diskName.isEmpty else {
                throw InstanceCreateRefusal(
                    "disk \(spec.diskID) of replica \(metadata.name) is not a known disk of node \(configuration.nodeName)")
            }
            try Self.checkReady(disk, of: metadata.name)
            return try InstanceCreateRequests.v2Replica(self, diskName: disk.diskName)
        }
    }

    /// A V2 replica's disk must be ready. One the node has found broken (not ready for a reason
    /// of its own, or with another lvstore than recorded) is a refusal; one not checked yet since
    /// its instance manager came up (no disk info yet, the disk service unreachable) is waited for.
    private static func checkReady(_ disk: DiskStatus, of name: String) throws {
        let condition = disk.conditions.condition(ofType: DiskConditionType.ready)
        guard condition?.status == .isTrue else {
            let why = condition.map { $0.message.isEmpty ? $0.reason : $0.message } ?? "it has not been checked yet"
            let verdicts = [DiskConditionReason.diskNotReady, DiskConditionReason.diskFilesystemChanged]
            if let condition, verdicts.contains(condition.reason) {
                throw InstanceCreateRefusal("disk \(disk.diskName) of replica \(name) is not ready: \(why)")
            }
            throw InstanceCreateWait("replica \(name) waits for its disk \(disk.diskName): \(why)")
        }
    }

    /// A V2 replica's lvstore its instance manager does not have (NotFound) is a disk not loaded
    /// yet: the node's next check creates it there again, or finds it broken.
    func createWaits(after error: InstanceCallError) -> Bool {
        spec.dataEngine == .v2 && error.isNotFound
    }

    func observeRunning(client: InstanceServiceClient) async -> Bool { true }
    func clearRunning() {}
    static var followedType: String { "" }
    static func followers(of names: Set<String>, store: any ResourceStore) async throws -> Set<String> { [] }

    func removeData() throws {
        guard spec.dataEngine == .v1, let directory = try? InstanceCreateRequests.v1DataDirectory(self) else { return }
        guard FileManager.default.fileExists(atPath: directory) else { return }
        try FileManager.default.removeItem(atPath: directory)
    }
}

extension Engine: HandledInstance {
    static var instanceType: String { InstanceCreateRequests.engineType }
    static var cleanupOnStop: Bool { true }
    var instance: InstanceSpec { spec.instance }
    var instanceStatus: InstanceStatus {
        get { status.instance }
        set { status.instance = newValue }
    }
    var diskUUID: String { "" }

    mutating func prepareForCreate() {
        status.currentReplicaAddressMap = spec.replicaAddressMap
    }

    func createRequest(configuration: InstanceHandlerConfiguration, store: any ResourceStore) async throws
        -> Imrpc_InstanceSpec
    {
        switch spec.dataEngine {
        case .v1: try InstanceCreateRequests.v1Engine(self, address: configuration.address, launch: configuration.v1Launch)
        case .v2: try InstanceCreateRequests.v2Engine(self, address: configuration.address)
        }
    }

    func createWaits(after error: InstanceCallError) -> Bool { false }

    /// The running engine's endpoint, size and replica modes from the proxy; first, every replica
    /// it has that `spec.replicaAddressMap` no longer names is taken out of it
    /// (EngineReplicaRemoval). False when the proxy could not be read or a removal failed.
    mutating func observeRunning(client: InstanceServiceClient) async -> Bool {
        guard status.currentState == .running else { return true }
        let engineAddress = "\(status.storageIP):\(status.port)"
        let answer: (volume: Ptypes_Volume, replicas: [Ptypes_ControllerReplica])
        do {
            answer = try await client.engineVolume(
                engineName: metadata.name, volumeName: spec.volumeName, dataEngine: spec.dataEngine,
                engineAddress: engineAddress)
        } catch {
            return false
        }
        // A V1 controller always serves NBD; with its frontend disabled the volume has no endpoint.
        status.endpoint = spec.disableFrontend ? "" : answer.volume.endpoint
        status.currentSize = StringInt64(answer.volume.size)
        let removal = await removeReplicasNotInSpec(
            legs(answer.replicas), client: client, engineAddress: engineAddress)
        var modes: [String: ReplicaMode] = [:]
        for leg in removal.remaining {
            guard let name = leg.name else { continue }
            modes[name] = leg.mode
        }
        status.replicaModeMap = modes
        return removal.complete
    }

    mutating func clearRunning() {
        status.endpoint = ""
        status.replicaModeMap = [:]
        status.currentReplicaAddressMap = [:]
    }

    static var followedType: String { Replica.instanceType }

    /// The engines of the replicas' volumes that use one of them: named in the spec, or created or
    /// last seen with it. Looked up by volume label, so the work follows the replicas named.
    static func followers(of names: Set<String>, store: any ResourceStore) async throws -> Set<String> {
        var volumes = Set<String>()
        for name in names {
            guard let replica = try await store.get(Replica.self, name) else { continue }
            volumes.insert(replica.value.spec.volumeName)
        }
        var followers = Set<String>()
        for volume in volumes.sorted() where !volume.isEmpty {
            let engines = try await store.list(Engine.self, selector: ResourceSelector(labels: [VolumeLabels.volume: volume]))
            for engine in engines.items where engine.value.uses(names) { followers.insert(engine.name) }
        }
        return followers
    }

    /// Whether the engine uses one of the replicas `names`: named in its spec, or created or last
    /// seen with it.
    private func uses(_ names: Set<String>) -> Bool {
        names.contains {
            spec.replicaAddressMap[$0] != nil || status.currentReplicaAddressMap[$0] != nil
                || status.replicaModeMap[$0] != nil
        }
    }

    func removeData() throws {}
}
