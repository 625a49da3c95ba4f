// The lvstore and lvol methods (spdk.md §2.4) with SPDK's error conventions: decode failure
// -32603 "spdk_json_decode_object failed"; an lvstore named by both or neither of uuid and
// lvs_name -22; a missing lvstore or lvol -19. What SPDK checks before it starts the operation
// answers -errno with strerror's text (an invalid or taken name on create: -22, -17); what its
// completion callback reports answers -32602 with strerror's text (a taken name on snapshot,
// clone or rename: -32602 "File exists"; snapshotting a snapshot: -32602 "Invalid argument");
// delete reports -32603, a snapshot with clones -16. docs/spdk-compatibility.md lists each method.

import BlockCore
import BlockDevices
import Foundation
import JSONRPC
import LogicalVolumes
import Synchronization

extension SPDKTarget {
    static let lvolMethods: [String: Method] = [
        "bdev_lvol_create_lvstore": { target, params in try await target.createLvstore(params) },
        "bdev_lvol_delete_lvstore": { target, params in try await target.deleteLvstore(params) },
        "bdev_lvol_get_lvstores": { target, params in try target.getLvstores(params) },
        "bdev_lvol_rename_lvstore": { target, params in try await target.renameLvstore(params) },
        "bdev_lvol_grow_lvstore": { target, params in try await target.growLvstore(params) },
        "bdev_lvol_create": { target, params in try await target.createLvol(params) },
        "bdev_lvol_delete": { target, params in try await target.deleteLvol(params) },
        "bdev_lvol_get_lvols": { target, params in try target.getLvols(params) },
        "bdev_lvol_resize": { target, params in try await target.resizeLvol(params) },
        "bdev_lvol_rename": { target, params in try await target.renameLvol(params) },
        "bdev_lvol_set_read_only": { target, params in try await target.setReadOnly(params) },
        "bdev_lvol_snapshot": { target, params in try await target.snapshot(params) },
        "bdev_lvol_clone": { target, params in try await target.clone(params) },
        "bdev_lvol_set_xattr": { target, params in try await target.setXattr(params) },
        "bdev_lvol_get_xattr": { target, params in try target.getXattr(params) },
        "bdev_lvol_get_snapshot_checksum": { target, params in try target.getSnapshotChecksum(params) },
    ]

    /// -32602 with strerror's text: what most lvol handlers reply when the operation fails.
    static func lvolFailure(_ error: any Error, code: Int32 = -32602) -> JSONRPCError {
        let errno = (error as? BlockError)?.errnoValue ?? 5
        return JSONRPCError(code: code, message: String(cString: strerror(errno)))
    }

    /// Runs an lvol operation, mapping its failure the way most lvol handlers do.
    func perform(code: Int32 = -32602, _ body: () async throws -> Void) async throws(JSONRPCError) {
        do {
            try await body()
        } catch let error as JSONRPCError {
            throw error
        } catch {
            throw Self.lvolFailure(error, code: code)
        }
    }

    /// The loaded lvstores; one whose base went away (hot remove) is dropped here.
    var allStores: [LogicalVolumeStore] {
        stores.withLock { stores in
            stores = stores.filter { $0.value.isLoaded }
            return Array(stores.values)
        }.sorted { $0.name < $1.name }
    }

    /// The lvstore named by exactly one of `uuid` and `lvs_name`.
    func store(uuid: String?, name: String?) throws(JSONRPCError) -> LogicalVolumeStore {
        guard (uuid == nil) != (name == nil) else { throw JSONRPCError(code: -22, message: "Invalid argument") }
        let found = allStores.first { store in
            if let uuid { return store.uuid.uuidString.lowercased() == uuid.lowercased() }
            return store.name == name
        }
        guard let found else { throw Self.noSuchDevice }
        return found
    }

    func lvol(_ name: String) throws(JSONRPCError) -> LogicalVolume {
        guard let lvol = registry.lookup(name) as? LogicalVolume else { throw Self.noSuchDevice }
        return lvol
    }

    static func lvstoreJSON(_ store: LogicalVolumeStore) -> JSONValue {
        .object([
            ("uuid", .string(store.uuid.uuidString.lowercased())), ("name", .string(store.name)),
            ("base_bdev", .string(store.baseDevice.name)), ("total_data_clusters", .integer(store.totalDataClusters)),
            ("free_clusters", .integer(store.freeClusters)), ("block_size", .integer(store.blockSize)),
            ("cluster_size", .integer(store.clusterSize)),
        ])
    }

    /// SPDK's synchronous name check (lvs_verify_lvol_name, vbdev_lvs_create): 1 to 255 bytes.
    static func checkName(_ name: String) throws(JSONRPCError) {
        guard !name.isEmpty, name.utf8.count <= LvolLimits.maxNameBytes else {
            throw JSONRPCError(code: -22, message: "Invalid argument")
        }
    }

    func createLvstore(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let bdevName = try decoder.requiredString("bdev_name")
        let name = try decoder.requiredString("lvs_name")
        // 0 means the default, as in SPDK.
        var clusterSize = try decoder.uint64("cluster_sz") ?? 0
        let clearName = try decoder.string("clear_method")
        var ratio = try decoder.uint64("num_md_pages_per_cluster_ratio") ?? 0
        // Upstream's metadata page size; pages are 4 KiB here, as in the fork.
        _ = try decoder.uint64("md_page_size")
        try decoder.finish()
        guard clusterSize <= UInt64(UInt32.max), ratio <= UInt64(UInt32.max) else { throw Params.decodeFailed }
        if clusterSize == 0 { clusterSize = UInt64(LvolLimits.defaultClusterSize) }
        if ratio == 0 { ratio = UInt64(LvolLimits.defaultMetadataPagesPerClusterPercent) }
        var clear = ClearMethod.unmap
        if let clearName {
            guard let parsed = ClearMethod(spdkName: clearName) else {
                throw JSONRPCError(code: -22, message: "Invalid clear_method parameter")
            }
            clear = parsed
        }
        try Self.checkName(name)
        guard let device = registry.lookup(bdevName) else { throw Self.noSuchDevice }
        guard clusterSize >= UInt64(device.blockSize), clusterSize <= UInt64(LvolLimits.maxClusterSize), ratio <= 10_000 else {
            throw JSONRPCError(code: -22, message: "Invalid argument")
        }
        guard !allStores.contains(where: { $0.name == name }) else { throw JSONRPCError(code: -17, message: "File exists") }
        try Self.checkCopyBuffersFit(clusterSizeBytes: clusterSize)
        do {
            let store = try await LogicalVolumeStore.create(
                on: device, name: name,
                options: .init(clusterSize: Int(clusterSize), clearMethod: clear, metadataPagesPerClusterPercent: Int(ratio)),
                executor: reactor, registry: registry)
            stores.withLock { $0[device.name] = store }
            return .string(store.uuid.uuidString.lowercased())
        } catch let error as BlockError where error.code == .claimed {
            // SPDK claims the base in its completion callback; a claimed bdev refuses with EPERM.
            throw JSONRPCError(code: -32602, message: "Operation not permitted")
        } catch {
            throw Self.lvolFailure(error)
        }
    }

    func deleteLvstore(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let uuid = try decoder.string("uuid")
        let name = try decoder.string("lvs_name")
        try decoder.finish()
        let store = try store(uuid: uuid, name: name)
        try await perform { try await store.destroy() }
        stores.withLock { $0[store.baseDevice.name] = nil }
        return .bool(true)
    }

    func getLvstores(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let uuid = try decoder.string("uuid")
        let name = try decoder.string("lvs_name")
        try decoder.finish()
        if uuid == nil && name == nil { return .array(allStores.map(Self.lvstoreJSON)) }
        return .array([Self.lvstoreJSON(try store(uuid: uuid, name: name))])
    }

    func renameLvstore(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let old = try decoder.requiredString("old_name")
        let new = try decoder.requiredString("new_name")
        try decoder.finish()
        guard let store = allStores.first(where: { $0.name == old }) else {
            throw JSONRPCError(code: -2, message: "Lvol store \(old) not found")
        }
        guard old == new || !allStores.contains(where: { $0.name == new }) else {
            // Reported by SPDK's completion callback, hence -32602.
            throw JSONRPCError(code: -32602, message: "File exists")
        }
        try await perform { try await store.rename(to: new) }
        return .bool(true)
    }

    func growLvstore(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let uuid = try decoder.string("uuid")
        let name = try decoder.string("lvs_name")
        try decoder.finish()
        let store = try store(uuid: uuid, name: name)
        do {
            try (store.baseDevice as? AIODevice)?.rescan()
            try await store.grow()
        } catch {
            throw Self.lvolFailure(error)
        }
        return .bool(true)
    }

    func createLvol(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("lvol_name")
        let sizeMiB = try decoder.requiredUInt64("size_in_mib")
        let thin = try decoder.bool("thin_provision") ?? false
        let uuid = try decoder.string("uuid")
        let storeName = try decoder.string("lvs_name")
        let clearName = try decoder.string("clear_method")
        try decoder.finish()
        let store = try store(uuid: uuid, name: storeName)
        var clear: ClearMethod?
        if let clearName {
            // SPDK's bdev_lvol_create spells this message so ("clean"), unlike create_lvstore.
            guard let parsed = ClearMethod(spdkName: clearName) else {
                throw JSONRPCError(code: -22, message: "Invalid clean_method option")
            }
            clear = parsed
        }
        try Self.checkName(name)
        guard store.volume(named: name) == nil else { throw JSONRPCError(code: -17, message: "File exists") }
        let (bytes, overflow) = sizeMiB.multipliedReportingOverflow(by: 1 << 20)
        guard !overflow else { throw JSONRPCError(code: -22, message: "Invalid argument") }
        try Self.checkLvolMapFits(sizeBytes: bytes, clusterSizeBytes: store.clusterSize)
        do {
            let lvol = try await store.createVolume(name: name, sizeBytes: bytes, thinProvisioned: thin, clearMethod: clear)
            return .string(lvol.name)
        } catch {
            throw Self.lvolFailure(error)
        }
    }

    func deleteLvol(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("name")
        try decoder.finish()
        let lvol = try lvol(name)
        do {
            try await lvol.lvstore.delete(lvol)
        } catch let error as BlockError where error.code == .busy {
            throw JSONRPCError(code: -16, message: "Device or resource busy")
        } catch {
            throw Self.lvolFailure(error, code: -32603)
        }
        return .bool(true)
    }

    func getLvols(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        var uuid = try decoder.string("lvs_uuid")
        // go-spdk-helper sends the lvstore's UUID as "uuid" here.
        if let alternate = try decoder.string("uuid") {
            guard uuid == nil else { throw Params.decodeFailed }
            uuid = alternate
        }
        let name = try decoder.string("lvs_name")
        try decoder.finish()
        let selected = uuid == nil && name == nil ? allStores : [try store(uuid: uuid, name: name)]
        return .array(selected.flatMap { store in
            store.volumes.map { lvol in
                JSONValue.object([
                    ("alias", .string(lvol.aliases.first ?? "")), ("uuid", .string(lvol.name)),
                    ("name", .string(lvol.lvolName)), ("creation_time", .string(lvol.creationTime)),
                    ("is_thin_provisioned", .bool(lvol.isThinProvisioned)), ("is_snapshot", .bool(lvol.isSnapshot)),
                    ("is_clone", .bool(lvol.isClone)), ("is_esnap_clone", .bool(false)), ("is_degraded", .bool(false)),
                    ("lvs", .object([("name", .string(store.name)), ("uuid", .string(store.uuid.uuidString.lowercased()))])),
                ])
            }
        })
    }

    func resizeLvol(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("name")
        let sizeMiB = try decoder.requiredUInt64("size_in_mib")
        try decoder.finish()
        let lvol = try lvol(name)
        let (bytes, overflow) = sizeMiB.multipliedReportingOverflow(by: 1 << 20)
        guard !overflow else { throw JSONRPCError(code: -22, message: "Invalid argument") }
        try Self.checkLvolMapFits(sizeBytes: bytes, clusterSizeBytes: lvol.lvstore.clusterSize)
        try await perform { try await lvol.lvstore.resize(lvol, sizeBytes: bytes) }
        return .bool(true)
    }

    func renameLvol(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let old = try decoder.requiredString("old_name")
        let new = try decoder.requiredString("new_name")
        try decoder.finish()
        let lvol = try lvol(old)
        try await perform { try await lvol.lvstore.rename(lvol, to: new) }
        return .bool(true)
    }

    func setReadOnly(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("name")
        try decoder.finish()
        let lvol = try lvol(name)
        try await perform { try await lvol.lvstore.setReadOnly(lvol) }
        return .bool(true)
    }

    func snapshot(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("lvol_name")
        let snapshotName = try decoder.requiredString("snapshot_name")
        let xattrs = try decoder.stringMap("xattrs")
        try decoder.finish()
        let lvol = try lvol(name)
        do {
            let snapshot = try await lvol.lvstore.snapshot(
                lvol, name: snapshotName, xattrs: xattrs.mapValues { Array($0.utf8) + [0] })
            return .string(snapshot.name)
        } catch {
            // A taken name (-32602 "File exists") and a read-only origin such as a snapshot
            // (-32602 "Invalid argument") both come from SPDK's completion callback.
            throw Self.lvolFailure(error)
        }
    }

    func clone(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let snapshotName = try decoder.requiredString("snapshot_name")
        let cloneName = try decoder.requiredString("clone_name")
        try decoder.finish()
        let snapshot = try lvol(snapshotName)
        do {
            return .string(try await snapshot.lvstore.clone(snapshot, name: cloneName).name)
        } catch {
            throw Self.lvolFailure(error)
        }
    }

    func setXattr(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("name")
        let key = try decoder.requiredString("xattr_name")
        let value = try decoder.requiredString("xattr_value")
        try decoder.finish()
        let lvol = try lvol(name)
        try await perform { try await lvol.lvstore.setXattr(lvol, name: key, value: Array(value.utf8) + [0]) }
        return .bool(true)
    }

    func getXattr(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("name")
        let key = try decoder.requiredString("xattr_name")
        try decoder.finish()
        let lvol = try lvol(name)
        guard var value = lvol.xattr(key) else {
            throw JSONRPCError(code: -32603, message: "No such file or directory")
        }
        if value.last == 0 { value.removeLast() }
        return .string(String(decoding: value, as: UTF8.self))
    }

    /// The fork's bdev_lvol_get_snapshot_checksum. Checksums are registered by
    /// bdev_lvol_register_snapshot_checksum, which this daemon does not offer yet, so no lvol has
    /// one: the reply is -19 "No such device", which go-spdk-helper reads as "no checksum" when it
    /// lists snapshots.
    func getSnapshotChecksum(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        var decoder = try Params(params)
        let name = try decoder.requiredString("name")
        try decoder.finish()
        _ = try lvol(name)
        throw Self.noSuchDevice
    }
}
