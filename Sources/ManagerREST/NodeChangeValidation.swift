// The checks a node change passes before it is stored (Longhorn's node webhook and the API's own
// checks). A refused change is a 400 whose message says what to do; nothing is written.
//
// diskUpdate (the new disk map replaces the old one):
// - every disk: a path; `diskType` "" means filesystem; a block disk only while the setting
//   `v2-data-engine` is true; `diskDriver` only for block disks ("" becomes `auto` there);
//   `storageReserved` ≥ 0; `evictionRequested` only with `allowScheduling` false; tags valid
//   (deduplicated and sorted); no two disks on one path;
// - a kept disk keeps its `diskType`; a disk whose path changes, or that is removed, must not
//   allow scheduling ("Please disable the disk"), and a removed disk must hold no replicas.
// Node PUT: valid tags, `instanceManagerCPURequest` ≥ 0.
// Both: refused with 409 while the node controller has not yet given every disk of the spec a status
// and dropped the status of every disk gone from it (Longhorn's webhook refuses such an update;
// trying again once the controller caught up succeeds).

import ManagerModel

enum NodeChangeValidation {
    /// The disk map to store for `node` given `proposed`, normalized.
    static func disks(
        _ proposed: [String: DiskSpec], replacing node: Node, v2DataEngineEnabled: Bool
    ) throws(APIError) -> [String: DiskSpec] {
        var result: [String: DiskSpec] = [:]
        var pathOwners: [String: String] = [:]
        for name in proposed.keys.sorted() {
            guard var disk = proposed[name] else { continue }
            try checkName(name)
            guard !disk.path.isEmpty else { throw .badRequest("disk \(name): the path is empty") }
            if let other = pathOwners[disk.path] {
                throw .badRequest("disk \(name): path \(disk.path) is already used by disk \(other)")
            }
            pathOwners[disk.path] = name
            switch disk.diskType {
            case .block:
                guard v2DataEngineEnabled else {
                    throw .badRequest(
                        "disk \(name) type \(disk.diskType.rawValue) is not supported since v2 data engine is disabled")
                }
                if disk.diskDriver == .unset { disk.diskDriver = .auto }
            case .filesystem:
                guard disk.diskDriver == .unset else {
                    throw .badRequest(
                        "disk \(name): diskDriver \(disk.diskDriver.rawValue) is only allowed for block disks")
                }
            }
            guard disk.storageReserved >= 0 else {
                throw .badRequest("disk \(name): storageReserved \(disk.storageReserved) is negative")
            }
            if disk.evictionRequested && disk.allowScheduling {
                throw .badRequest(
                    "disk \(name): need to disable scheduling (allowScheduling false) before requesting eviction")
            }
            disk.tags = try tags(disk.tags)
            if let current = node.spec.disks[name] {
                guard current.diskType == disk.diskType else {
                    throw .badRequest(
                        "disk \(name): diskType cannot change from \(current.diskType.rawValue) to \(disk.diskType.rawValue)"
                    )
                }
                if current.path != disk.path && current.allowScheduling {
                    throw .badRequest(
                        "Update disk on node \(node.metadata.name) error: Please disable the disk \(name) "
                            + "(\(current.path)) before changing its path to \(disk.path)")
                }
            }
            result[name] = disk
        }
        for name in node.spec.disks.keys.sorted() where proposed[name] == nil {
            guard let current = node.spec.disks[name] else { continue }
            if current.allowScheduling {
                throw .badRequest(
                    "Delete disk on node \(node.metadata.name) error: Please disable the disk \(name) (\(current.path)) "
                        + "and remove all replicas first")
            }
            if let status = node.status.diskStatus[name],
                status.storageScheduled > 0 || !status.scheduledReplica.isEmpty
            {
                let replicas = status.scheduledReplica.keys.sorted().joined(separator: ", ")
                throw .badRequest(
                    "Delete disk on node \(node.metadata.name) error: disk \(name) (\(current.path)) still has "
                        + "\(status.storageScheduled) bytes of replicas scheduled (\(replicas)); remove all replicas first"
                )
            }
        }
        return result
    }

    /// Refuses a change to `node` while the disks of its spec and of its status differ.
    static func disksSynced(_ node: Node) throws(APIError) {
        guard Set(node.spec.disks.keys) == Set(node.status.diskStatus.keys) else {
            throw .conflict(
                "spec and status of disks on node \(node.metadata.name) are being syncing and please retry later.")
        }
    }

    /// Valid tags, deduplicated and sorted.
    static func tags(_ tags: [String]) throws(APIError) -> [String] {
        do {
            return try NameValidation.validateTags(tags)
        } catch {
            throw .badRequest(error.message)
        }
    }

    /// A disk name is a key of the node's map and of its status: a Kubernetes label-like name.
    private static func checkName(_ name: String) throws(APIError) {
        let errors = NameValidation.dns1123SubdomainErrors(name)
        guard errors.isEmpty else {
            throw .badRequest("invalid disk name \"\(name)\": " + errors.joined(separator: "; "))
        }
    }
}
