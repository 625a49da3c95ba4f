// The parts of the tgt's listings the instance manager reads (bdev_get_bdevs,
// bdev_lvol_get_lvstores, nvmf_get_subsystems, bdev_raid_get_bdevs). Objects missing a field
// the instance manager needs are skipped, not trusted.

import JSONRPC

extension JSONValue {
    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var intValue: Int? {
        if case .number(let text) = self { return Int(text) }
        return nil
    }

    var uint64Value: UInt64? {
        if case .number(let text) = self { return UInt64(text) }
        return nil
    }

    var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }
}

struct TgtBdev: Sendable {
    var name: String
    var aliases: [String]
    var uuid: String
    var blockSize: UInt64
    var blockCount: UInt64
    var creationTime: String
    var driverSpecific: JSONValue
    var sizeBytes: UInt64 { blockSize * blockCount }

    init?(_ value: JSONValue) {
        guard let name = value["name"]?.stringValue, let blockSize = value["block_size"]?.uint64Value,
            let blockCount = value["num_blocks"]?.uint64Value
        else { return nil }
        self.name = name
        self.blockSize = blockSize
        self.blockCount = blockCount
        if case .array(let items)? = value["aliases"] {
            aliases = items.compactMap(\.stringValue)
        } else {
            aliases = []
        }
        uuid = value["uuid"]?.stringValue ?? ""
        creationTime = value["creation_time"]?.stringValue ?? ""
        driverSpecific = value["driver_specific"] ?? .object([])
    }

    /// The file of an aio bdev.
    var aioFilename: String? { driverSpecific["aio"]?["filename"]?.stringValue }
    /// The lvol part of an lvol bdev.
    var lvol: JSONValue? { driverSpecific["lvol"] }
    /// "<lvstore>/<lvol>" for an lvol.
    var lvolAlias: String? { aliases.first { $0.contains("/") } }
}

struct TgtLvstore: Sendable {
    var uuid: String
    var name: String
    var baseBdev: String
    var totalDataClusters: UInt64
    var freeClusters: UInt64
    var blockSize: UInt64
    var clusterSize: UInt64

    init?(_ value: JSONValue) {
        guard let uuid = value["uuid"]?.stringValue, let name = value["name"]?.stringValue,
            let base = value["base_bdev"]?.stringValue, let total = value["total_data_clusters"]?.uint64Value,
            let free = value["free_clusters"]?.uint64Value, let blockSize = value["block_size"]?.uint64Value,
            let clusterSize = value["cluster_size"]?.uint64Value
        else { return nil }
        self.uuid = uuid
        self.name = name
        baseBdev = base
        totalDataClusters = total
        freeClusters = free
        self.blockSize = blockSize
        self.clusterSize = clusterSize
    }
}

struct TgtSubsystem: Sendable {
    var nqn: String
    /// Listener ports, as numbers.
    var ports: [Int]
    /// The bdevs of its namespaces.
    var namespaceBdevs: [String]

    init?(_ value: JSONValue) {
        guard let nqn = value["nqn"]?.stringValue else { return nil }
        self.nqn = nqn
        if case .array(let namespaces)? = value["namespaces"] {
            namespaceBdevs = namespaces.compactMap { $0["bdev_name"]?.stringValue }
        } else {
            namespaceBdevs = []
        }
        if case .array(let listeners)? = value["listen_addresses"] {
            ports = listeners.compactMap { $0["trsvcid"]?.stringValue.flatMap { Int($0) } }
        } else {
            ports = []
        }
    }
}

struct TgtRaid: Sendable {
    var name: String
    var state: String
    /// Base bdev name → configured (operational).
    var bases: [String: Bool]

    init?(_ value: JSONValue) {
        guard let name = value["name"]?.stringValue else { return nil }
        self.name = name
        state = value["state"]?.stringValue ?? ""
        var bases: [String: Bool] = [:]
        if case .array(let slots)? = value["base_bdevs_list"] {
            for slot in slots {
                if let base = slot["name"]?.stringValue { bases[base] = slot["is_configured"]?.boolValue ?? false }
            }
        }
        self.bases = bases
    }

    /// A RAID from its bdev (`bdev_get_bdevs`): the same fields, under `driver_specific.raid`;
    /// nil for a bdev that is not a RAID.
    init?(bdev: TgtBdev) {
        guard case .object(var members)? = bdev.driverSpecific["raid"] else { return nil }
        members.removeAll { $0.key == "name" }
        members.insert((key: "name", value: .string(bdev.name)), at: 0)
        self.init(.object(members))
    }
}

struct TgtNBDExport: Sendable {
    var name: String
    var bdev: String
    var host: String
    var port: Int

    init?(_ value: JSONValue) {
        guard let name = value["name"]?.stringValue, let bdev = value["bdev_name"]?.stringValue,
            let host = value["listen_address"]?["traddr"]?.stringValue,
            let port = value["listen_address"]?["trsvcid"]?.stringValue.flatMap({ Int($0) })
        else { return nil }
        self.name = name
        self.bdev = bdev
        self.host = host
        self.port = port
    }
}
