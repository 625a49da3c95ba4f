// Disks (longhorn-api.md §3.4, §4.4): an aio bdev named after the disk with an lvstore of the
// same name (1 MiB clusters). Creation is asynchronous: `diskCreate` registers the disk as
// "creating" and the work runs in the background; `diskGet` then reports "ready" or "error".

extension V2Instances {
    public func diskCreate(
        name: String, uuid: String, path: String, blockSize: Int64
    ) throws(InstanceManagerError) -> DiskInfo {
        guard !name.isEmpty, name.utf8.count <= 255, !name.contains("/") else {
            throw .invalidArgument("invalid disk name \"\(name)\"")
        }
        guard !path.isEmpty else { throw .invalidArgument("disk \(name) has no path") }
        guard blockSize == 0 || [512, 4096].contains(blockSize) else {
            throw .invalidArgument("invalid block size \(blockSize) for disk \(name): 512 or 4096")
        }
        if let disk = disks[name] {
            guard disk.path == path else {
                throw .invalidArgument("disk \(name) is already created with path \(disk.path), not \(path)")
            }
            guard uuid.isEmpty || disk.uuid.isEmpty || disk.uuid == uuid else {
                throw .invalidArgument("disk \(name) has UUID \(disk.uuid), not \(uuid)")
            }
            if disk.state != .error { return disk }
        }
        let disk = DiskInfo(
            id: "", uuid: uuid, path: path, type: "block", totalSize: 0, freeSize: 0, totalBlocks: 0, freeBlocks: 0,
            blockSize: blockSize == 0 ? 512 : blockSize, clusterSize: 0, driver: "aio", name: name, state: .creating,
            errorMsg: "")
        disks[name] = disk
        changes.notify()
        diskTasks[name] = Task { await self.initializeDisk(name) }
        return disk
    }

    public func diskGet(name: String) async throws(InstanceManagerError) -> DiskInfo {
        guard let disk = disks[name] else { throw .notFound("disk \(name)") }
        guard disk.state == .ready else { return disk }
        // Fresh sizes; the last known ones if the tgt cannot answer now.
        if let store = try? await tgt.lvstores().first(where: { $0.name == name }), var current = disks[name] {
            current.apply(store)
            disks[name] = current
            return current
        }
        return disks[name] ?? disk
    }

    /// Every disk the instance manager knows.
    public func diskList() -> [String: DiskInfo] { disks }

    /// Unloads the disk (bdev_aio_delete: the lvstore goes with it, its data stays on the device).
    public func diskDelete(name: String, uuid: String) async throws(InstanceManagerError) {
        await lock()
        defer { unlock() }
        guard let disk = disks[name] else { throw .notFound("disk \(name)") }
        guard uuid.isEmpty || disk.uuid.isEmpty || disk.uuid == uuid else {
            throw .invalidArgument("disk \(name) has UUID \(disk.uuid), not \(uuid)")
        }
        let running = replicas.values.filter { $0.lvsName == name && $0.state == .running }.map(\.name).sorted()
        guard running.isEmpty else {
            throw InstanceManagerError(
                .failedPrecondition, "disk \(name) has running replicas: \(running.joined(separator: ", "))")
        }
        diskTasks.removeValue(forKey: name)?.cancel()
        try await tgt.aioDelete(name: name)
        disks.removeValue(forKey: name)
        for replica in replicas.values where replica.lvsName == name { replicas.removeValue(forKey: replica.name) }
        changes.notify()
    }

    /// All V2 replicas on this node (not filtered by disk, as Longhorn's DiskReplicaInstanceList).
    public func diskReplicaInstanceList(diskName: String) throws(InstanceManagerError) -> [String: ReplicaInstance] {
        guard !diskName.isEmpty else { throw .invalidArgument("disk name is required") }
        return replicas.mapValues { replica in
            ReplicaInstance(
                name: replica.name, uuid: replica.uuid, diskName: replica.lvsName, diskUUID: replica.lvsUUID,
                specSize: replica.specSize, actualSize: replica.actualSize)
        }
    }

    /// Deletes a replica and its lvols (an orphan's cleanup).
    public func diskReplicaInstanceDelete(
        diskName: String, diskUUID: String, instanceName: String
    ) async throws(InstanceManagerError) {
        guard !diskName.isEmpty, !diskUUID.isEmpty, !instanceName.isEmpty else {
            throw .invalidArgument("disk name, disk UUID and replica instance name are required")
        }
        guard let disk = disks[diskName] else { throw .notFound("disk \(diskName)") }
        guard disk.uuid == diskUUID else {
            throw .invalidArgument("disk \(diskName) has UUID \(disk.uuid), not \(diskUUID)")
        }
        if replicas[instanceName] != nil {
            try await replicaDelete(name: instanceName, cleanupRequired: true)
            return
        }
        await lock()
        defer { unlock() }
        guard try await tgt.bdev("\(diskName)/\(instanceName)") != nil else {
            throw .notFound("replica instance \(instanceName)")
        }
        try await tgt.lvolDelete(name: "\(diskName)/\(instanceName)")
        changes.notify()
    }

    func initializeDisk(_ name: String) async {
        await lock()
        defer { unlock() }
        guard let disk = disks[name], disk.state == .creating, !Task.isCancelled else { return }
        do {
            let loaded = try await loadDisk(disk)
            guard disks[name]?.state == .creating else { return }  // deleted meanwhile
            disks[name] = loaded
        } catch {
            guard disks[name]?.state == .creating else { return }
            disks[name]?.state = .error
            disks[name]?.errorMsg = error.message
        }
        diskTasks.removeValue(forKey: name)
        changes.notify()
    }

    /// The aio bdev and its lvstore (§4.4 disk create steps 2–4).
    private func loadDisk(_ disk: DiskInfo) async throws(InstanceManagerError) -> DiskInfo {
        let name = disk.name
        var result = disk
        result.id = try diskIdentity(ofPath: disk.path)
        if let other = disks.values.first(where: { $0.name != name && $0.id == result.id && $0.state == .ready }) {
            throw InstanceManagerError(.failedPrecondition, "\(disk.path) is already used by disk \(other.name)")
        }
        var created = false
        if let existing = try await tgt.bdev(name) {
            guard existing.aioFilename == disk.path else {
                throw InstanceManagerError(
                    .alreadyExists, "a bdev named \(name) exists in the tgt and is not an aio bdev of \(disk.path)")
            }
        } else {
            try await tgt.aioCreate(name: name, filename: disk.path, blockSize: Int(disk.blockSize))
            created = true
        }
        do throws(InstanceManagerError) {
            var store = try await tgt.lvstores().first { $0.baseBdev == name }
            if var found = store {
                guard disk.uuid.isEmpty || found.uuid == disk.uuid else {
                    throw InstanceManagerError(
                        .invalidArgument,
                        "disk \(name): the lvstore on \(disk.path) has UUID \(found.uuid), not the requested \(disk.uuid)"
                    )
                }
                if found.name != name {
                    try await tgt.lvstoreRename(from: found.name, to: name)
                    found.name = name
                }
                store = found
            } else {
                guard disk.uuid.isEmpty else {
                    throw InstanceManagerError.notFound(
                        "lvstore with UUID \(disk.uuid) on \(disk.path) for disk \(name)")
                }
                try await tgt.lvstoreCreate(
                    bdev: name, name: name, clusterSize: InstanceManagerLimits.diskClusterSizeBytes)
                store = try await tgt.lvstores().first { $0.baseBdev == name }
            }
            guard let store else {
                throw InstanceManagerError(.internalError, "the lvstore of disk \(name) did not appear")
            }
            result.apply(store)
            result.state = .ready
            result.errorMsg = ""
            return result
        } catch {
            if created { try? await tgt.aioDelete(name: name) }
            throw error
        }
    }
}

extension DiskInfo {
    mutating func apply(_ store: TgtLvstore) {
        uuid = store.uuid
        clusterSize = Int64(store.clusterSize)
        totalSize = Int64(store.totalDataClusters * store.clusterSize)
        freeSize = Int64(store.freeClusters * store.clusterSize)
        let block = max(blockSize, 1)
        totalBlocks = totalSize / block
        freeBlocks = freeSize / block
    }
}
