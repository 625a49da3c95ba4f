// The V2 instance manager's values, field for field as spdkrpc's Disk, Lvol, Replica and Engine
// messages (and imrpc's ReplicaInstance), so the gRPC service layer maps them 1:1.

/// An instance's state, spelled as SPDK's service reports it.
public enum V2InstanceState: String, Sendable, Equatable {
    case pending, stopped, running, terminating, error, suspended
}

/// A disk's state (imrpc Disk.state).
public enum DiskState: String, Sendable, Equatable {
    case creating, ready, error
}

/// A replica's mode in an engine (spdkrpc ReplicaMode).
public enum ReplicaMode: String, Sendable, Equatable {
    case rw = "RW"
    case wo = "WO"
    case err = "ERR"
}

/// imrpc/spdkrpc Disk.
public struct DiskInfo: Sendable, Equatable {
    /// "<major>-<minor>" of a block device; "file-<major>-<minor>-<inode>" of a regular file
    /// (the device holding it and its inode: stable while the file exists).
    public var id: String
    /// The lvstore's UUID.
    public var uuid: String
    public var path: String
    /// Always "block".
    public var type: String
    public var totalSize: Int64
    public var freeSize: Int64
    public var totalBlocks: Int64
    public var freeBlocks: Int64
    public var blockSize: Int64
    public var clusterSize: Int64
    /// "aio".
    public var driver: String
    /// The disk's name = its aio bdev's name = its lvstore's name.
    public var name: String
    public var state: DiskState
    /// Why the state is `error` (not a proto field; the service layer may log or append it).
    public var errorMsg: String
}

/// imrpc ReplicaInstance (DiskReplicaInstanceList).
public struct ReplicaInstance: Sendable, Equatable {
    public var name: String
    public var uuid: String
    public var diskName: String
    public var diskUUID: String
    public var specSize: UInt64
    public var actualSize: UInt64
}

/// spdkrpc Lvol. The head is reported with name "volume-head".
public struct LvolInfo: Sendable, Equatable {
    public var name: String
    public var uuid: String
    public var specSize: UInt64
    public var actualSize: UInt64
    public var parent: String
    public var children: [String: Bool]
    public var creationTime: String
    public var userCreated: Bool
    public var snapshotTimestamp: String
    public var snapshotChecksum: String
}

/// spdkrpc Replica.
public struct ReplicaInfo: Sendable, Equatable {
    public var name: String
    public var lvsName: String
    public var lvsUUID: String
    public var specSize: UInt64
    public var actualSize: UInt64
    public var ip: String
    public var portStart: Int32
    public var portEnd: Int32
    public var head: LvolInfo?
    public var snapshots: [String: LvolInfo]
    public var rebuilding: Bool
    public var state: V2InstanceState
    public var errorMsg: String
    public var backingImageName: String
    /// The head lvol's UUID.
    public var uuid: String
}

/// spdkrpc Engine.
public struct EngineInfo: Sendable, Equatable {
    public var name: String
    public var volumeName: String
    public var specSize: UInt64
    public var actualSize: UInt64
    /// The target's IP (G2: ip/port are the target's).
    public var ip: String
    public var port: Int32
    public var replicaAddressMap: [String: String]
    public var replicaModeMap: [String: ReplicaMode]
    public var head: LvolInfo?
    public var snapshots: [String: LvolInfo]
    public var frontend: String
    public var endpoint: String
    public var state: V2InstanceState
    public var errorMsg: String
    public var targetIP: String
    public var targetPort: Int32
    public var standbyTargetPort: Int32
    public var ublkID: Int32
    public var uuid: String
    public var isExpanding: Bool
    public var lastExpansionError: String
    public var lastExpansionFailedAt: String
    public var snapshotMaxCount: Int32
}

/// The frontends an engine may have.
public enum EngineFrontend: String, Sendable, CaseIterable {
    /// No frontend.
    case none = ""
    /// An NVMe-oF subsystem for the volume; endpoint `nvmf://ip:port/nqn`.
    case nvmf = "spdk-tcp-nvmf"
    /// A host block device through the kernel's NVMe/TCP initiator.
    case blockdev = "spdk-tcp-blockdev"
    /// Hornbill's NBD export of the volume; endpoint `nbd://ip:port/<volume>`.
    case nbd = "nbd"
}

/// Names and sizes of SPDK objects (longhorn-api.md §4.2).
public enum V2Naming {
    public static let nqnPrefix = "nqn.2023-01.io.longhorn.spdk"
    public static func nqn(_ name: String) -> String { "\(nqnPrefix):\(name)" }
    public static func volumeNQN(_ volume: String) -> String { nqn("volume-\(volume)") }
    /// Name parts reserved for snapshot, rebuilding, expired, cloning and clone lvols.
    static let reservedTokens = ["-snap-", "-rebuilding", "-expired-", "-cloning", "-clone-ep-", "-tmp-head", "/"]

    /// Whether `name` can be a replica (or an lvol holding one): no reserved parts, characters an
    /// lvol name and an NQN allow.
    public static func isReplicaName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 200, !name.hasPrefix("bi-") else { return false }
        guard !reservedTokens.contains(where: { name.contains($0) }) else { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }
}
