// What the instance handler asks an instance manager to create (longhorn-api.md §3.8):
// - V2 replica: `spdk_instance_spec {size, disk_name (the lvstore's name), disk_uuid (spec.diskID)}`,
//   5 ports;
// - V2 engine: `spdk_instance_spec {size, replica_address_map (status.currentReplicaAddressMap),
//   frontend}`, the frontend mapped to the SPDK frontend string;
// - V1 replica and engine: `process_instance_spec` running this node's `hornbill replica` over
//   `<diskPath>/replicas/<dataDirectoryName>` and `hornbill controller` over the replicas, each on
//   one port the instance manager appends to `--listen <node address>:`.
// Every value a resource brings is checked here: a request that cannot be right is refused with a
// message, and nothing is sent.

import InstanceManagerAPI
import ManagerModel

/// Why an instance cannot be created as its resource asks.
struct InstanceCreateRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Why an instance cannot be created yet: what it needs is not there yet (a V2 replica's disk
/// that the node has not found ready, or that its instance manager has not loaded since it
/// restarted). The instance has not failed; it is created once that is there.
struct InstanceCreateWait: Error, Sendable, Equatable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What a V1 process is launched with on this node.
public struct V1ProcessLaunch: Sendable {
    /// The `hornbill` executable the instance manager runs.
    public var executable: String
    /// Where V1 controllers make their status sockets (read by the instance manager's proxy).
    public var runDirectory: String

    public init(executable: String, runDirectory: String) {
        self.executable = executable
        self.runDirectory = runDirectory
    }
}

enum InstanceCreateRequests {
    /// The instance type strings.
    static let replicaType = "replica"
    static let engineType = "engine"
    /// A V2 replica's ports (Longhorn's manager asks for 5).
    static let v2ReplicaPortCount: Int32 = 5
    /// A Unix socket path's limit (sun_path, with its terminating zero).
    static let unixSocketPathLimit = 107

    static func v2Replica(_ replica: Replica, diskName: String) throws(InstanceCreateRefusal) -> Imrpc_InstanceSpec {
        let size = try checkedSize(replica.spec.instance, name: replica.metadata.name)
        guard !replica.spec.diskID.isEmpty, !diskName.isEmpty else {
            throw InstanceCreateRefusal("replica \(replica.metadata.name) is not scheduled on a disk")
        }
        var spec = base(name: replica.metadata.name, type: replicaType, instance: replica.spec.instance)
        spec.portCount = v2ReplicaPortCount
        spec.portArgs = ["--listen,:"]
        spec.spdkInstanceSpec.size = UInt64(size)
        spec.spdkInstanceSpec.diskName = diskName
        spec.spdkInstanceSpec.diskUuid = replica.spec.diskID
        spec.spdkInstanceSpec.backingImageName = replica.spec.backingImage
        return spec
    }

    static func v2Engine(_ engine: Engine, address: String) throws(InstanceCreateRefusal) -> Imrpc_InstanceSpec {
        let size = try checkedSize(engine.spec.instance, name: engine.metadata.name)
        var spec = base(name: engine.metadata.name, type: engineType, instance: engine.spec.instance)
        spec.portCount = 1
        spec.portArgs = ["--listen,:"]
        spec.initiatorAddress = address
        spec.targetAddress = address
        spec.spdkInstanceSpec.size = UInt64(size)
        spec.spdkInstanceSpec.replicaAddressMap = engine.status.currentReplicaAddressMap
        spec.spdkInstanceSpec.frontend = try v2Frontend(engine.spec)
        spec.spdkInstanceSpec.salvageRequested = engine.spec.salvageRequested
        spec.spdkInstanceSpec.snapshotMaxCount = Int32(clamping: engine.spec.snapshotMaxCount)
        spec.spdkInstanceSpec.ublkQueueDepth = Int32(clamping: engine.spec.ublkQueueDepth)
        spec.spdkInstanceSpec.ublkNumberOfQueue = Int32(clamping: engine.spec.ublkNumberOfQueue)
        return spec
    }

    /// The SPDK frontend string for the engine's frontend (none when it is disabled).
    static func v2Frontend(_ spec: EngineSpec) throws(InstanceCreateRefusal) -> String {
        if spec.disableFrontend { return "" }
        switch spec.frontend {
        case .unset: return ""
        case .blockdev: return "spdk-tcp-blockdev"
        case .nvmf: return "spdk-tcp-nvmf"
        case .ublk: return "ublk"
        case .nbd: return "nbd"
        case .iscsi: throw InstanceCreateRefusal("the V2 data engine has no iscsi frontend")
        }
    }

    /// The replica's data directory: `<diskPath>/replicas/<dataDirectoryName>`.
    static func v1DataDirectory(_ replica: Replica) throws(InstanceCreateRefusal) -> String {
        let disk = replica.spec.diskPath
        let name = replica.spec.dataDirectoryName
        guard disk.hasPrefix("/") else {
            throw InstanceCreateRefusal("replica \(replica.metadata.name) has no absolute disk path (\"\(disk)\")")
        }
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.contains("\0") else {
            throw InstanceCreateRefusal(
                "replica \(replica.metadata.name) has no usable data directory name (\"\(name)\")")
        }
        return (disk.hasSuffix("/") ? String(disk.dropLast()) : disk) + "/replicas/" + name
    }

    static func v1Replica(
        _ replica: Replica, address: String, launch: V1ProcessLaunch
    ) throws(InstanceCreateRefusal) -> Imrpc_InstanceSpec {
        let size = try checkedV1Size(replica.spec.instance, name: replica.metadata.name)
        var spec = base(name: replica.metadata.name, type: replicaType, instance: replica.spec.instance)
        spec.processInstanceSpec.binary = launch.executable
        spec.processInstanceSpec.args = ["replica", try v1DataDirectory(replica), "--size", "\(size)"]
        spec.portCount = 1
        spec.portArgs = ["--listen,\(address):"]
        return spec
    }

    /// The V1 controller's status socket.
    static func v1StatusSocket(_ engineName: String, launch: V1ProcessLaunch) throws(InstanceCreateRefusal) -> String {
        let path = "\(launch.runDirectory)/\(engineName).sock"
        guard path.utf8.count <= unixSocketPathLimit else {
            throw InstanceCreateRefusal(
                "engine \(engineName): the status socket path \(path) is longer than \(unixSocketPathLimit) bytes")
        }
        return path
    }

    static func v1Engine(
        _ engine: Engine, address: String, launch: V1ProcessLaunch
    ) throws(InstanceCreateRefusal) -> Imrpc_InstanceSpec {
        let name = engine.metadata.name
        let size = try checkedV1Size(engine.spec.instance, name: name)
        switch engine.spec.frontend {
        case .nbd, .unset: break
        case .blockdev:
            throw InstanceCreateRefusal(
                "engine \(name): the V1 frontend blockdev needs a kernel block device, which the V1 controller does not make on this node; use the nbd frontend"
            )
        case .iscsi, .ublk, .nvmf:
            throw InstanceCreateRefusal(
                "engine \(name): the V1 controller has no \(engine.spec.frontend.rawValue) frontend; use the nbd frontend")
        }
        let replicas = engine.status.currentReplicaAddressMap.sorted { $0.key < $1.key }
        guard !replicas.isEmpty else { throw InstanceCreateRefusal("no healthy or scheduled replica for starting engine \(name)") }
        var args = [
            "controller", engine.spec.volumeName, "--size", "\(size)", "--frontend", "nbd", "--status-socket",
            try v1StatusSocket(name, launch: launch),
        ]
        for (replica, replicaAddress) in replicas {
            guard let colon = replicaAddress.lastIndex(of: ":"), colon != replicaAddress.startIndex,
                let port = Int(replicaAddress[replicaAddress.index(after: colon)...]), (1...65535).contains(port)
            else {
                throw InstanceCreateRefusal("replica \(replica) of engine \(name) has no ip:port address (\"\(replicaAddress)\")")
            }
            args += ["--replica", "tcp://\(replicaAddress)"]
        }
        guard !engine.spec.volumeName.isEmpty else { throw InstanceCreateRefusal("engine \(name) names no volume") }
        var spec = base(name: name, type: engineType, instance: engine.spec.instance)
        spec.processInstanceSpec.binary = launch.executable
        spec.processInstanceSpec.args = args
        spec.portCount = 1
        spec.portArgs = ["--listen,\(address):"]
        return spec
    }

    private static func base(name: String, type: String, instance: InstanceSpec) -> Imrpc_InstanceSpec {
        var spec = Imrpc_InstanceSpec()
        spec.name = name
        spec.type = type
        spec.volumeName = instance.volumeName
        spec.dataEngine = instance.dataEngine.wire
        spec.backendStoreDriver = instance.dataEngine.backendStoreDriver
        return spec
    }

    private static func checkedSize(_ instance: InstanceSpec, name: String) throws(InstanceCreateRefusal) -> Int64 {
        let size = instance.volumeSize.rawValue
        guard size > 0 else { throw InstanceCreateRefusal("\(name) has no size (volumeSize \(size))") }
        return size
    }

    /// V1 replicas and controllers take sizes in whole 4 KiB blocks.
    private static func checkedV1Size(_ instance: InstanceSpec, name: String) throws(InstanceCreateRefusal) -> Int64 {
        let size = try checkedSize(instance, name: name)
        guard size % 4096 == 0 else {
            throw InstanceCreateRefusal("\(name): volumeSize \(size) is not a multiple of 4096 bytes")
        }
        return size
    }
}
