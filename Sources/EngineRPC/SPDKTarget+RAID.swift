// The raid methods (spdk.md §2.5) with the fork's error conventions: a parameter decode failure is
// -32700 "spdk_json_decode_object failed" (SPDK's raid RPCs use the parse-error code for it; the
// connection stays open); a failed create is -errno "Failed to create RAID bdev <name>: <strerror>";
// a missing raid -19 "raid bdev <name> not found"; a failed remove -19 "Failed to remove base bdev
// from raid bdev"; a failed grow -errno "Failed to grow raid <raid> adding base bdev <base>: <strerror>".
//
// Only raid1 is implemented, without superblock, delta bitmap or rebuild (Longhorn uses none of
// them). Arrays are created with every base present; see `raidCreate`.

import BlockCore
import Foundation
import JSONRPC
import RAID

extension SPDKTarget {
    static let raidMethods: [String: Method] = [
        "bdev_raid_create": { target, params in try await target.raidCreate(params) },
        "bdev_raid_delete": { target, params in try await target.raidDelete(params) },
        "bdev_raid_get_bdevs": { target, params in try target.raidGetBdevs(params) },
        "bdev_raid_remove_base_bdev": { target, params in try await target.raidRemoveBase(params) },
        "bdev_raid_grow_base_bdev": { target, params in try target.raidGrowBase(params) },
    ]

    /// What SPDK's raid handlers reply when their params do not decode.
    static let raidDecodeFailed = JSONRPCError(code: -32700, message: "spdk_json_decode_object failed")

    /// Decodes params strictly (unknown, repeated, mistyped or missing keys fail), reporting any
    /// failure the raid way.
    static func decodeRaidParams<Value>(
        _ params: JSONValue?, _ body: (inout Params) throws(JSONRPCError) -> Value
    ) throws(JSONRPCError) -> Value {
        do {
            var decoder = try Params(params)
            let value = try body(&decoder)
            try decoder.finish()
            return value
        } catch {
            throw raidDecodeFailed
        }
    }

    /// -errno with strerror's text after `prefix` (SPDK's `"<what failed>: <strerror>"` messages),
    /// and what exactly went wrong in parentheses when there is more to say.
    static func raidFailure(errno: Int32, _ prefix: String, detail: String? = nil) -> JSONRPCError {
        var message = "\(prefix): \(String(cString: strerror(errno)))"
        if let detail { message += " (\(detail))" }
        return JSONRPCError(code: -errno, message: message)
    }

    /// The failure of a RAID operation, with the errno its error names.
    static func raidFailure(_ error: any Error, _ prefix: String) -> JSONRPCError {
        let blockError = error as? BlockError
        return raidFailure(errno: blockError?.errnoValue ?? 5, prefix, detail: blockError?.message)
    }

    /// Every registered RAID, sorted by name.
    var allRaids: [RAID1Device] { registry.all.compactMap { $0 as? RAID1Device } }

    // MARK: - Methods

    /// `bdev_raid_create`. SPDK registers an array whose bases are not all present yet and leaves it
    /// `configuring` until they appear; here a missing base fails the create with -19 "No such
    /// device" instead (Longhorn creates its arrays over bdevs it has just attached).
    func raidCreate(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        struct Request {
            var name: String
            var level: String
            var baseNames: [String]
            var stripSizeKiB: UInt64
            var uuid: UUID?
            var superblock: Bool
        }
        let request = try Self.decodeRaidParams(params) { (decoder: inout Params) throws(JSONRPCError) -> Request in
            let name = try decoder.requiredString("name")
            let level = try decoder.requiredString("raid_level")
            // A JSON array of names; rpc.py's CLI form, one whitespace-separated string, is accepted too.
            let baseNames: [String]
            if let list = try? decoder.stringArray("base_bdevs") {
                baseNames = list
            } else {
                baseNames = try decoder.requiredString("base_bdevs").split(whereSeparator: \.isWhitespace).map(String.init)
            }
            let stripSizeKiB = try decoder.uint64("strip_size_kb") ?? 0
            let uuidText = try decoder.string("uuid")
            let superblock = try decoder.bool("superblock") ?? false
            // The fork's delta bitmap tracks writes a faulty base missed; it is not implemented, and
            // arrays report `delta_bitmap_enabled: false`.
            _ = try decoder.bool("delta_bitmap")
            guard stripSizeKiB <= UInt64(UInt32.max), Self.raidLevels[level.lowercased()] != nil else {
                throw Self.raidDecodeFailed
            }
            var uuid: UUID?
            if let uuidText {
                guard let parsed = UUID(uuidString: uuidText) else { throw Self.raidDecodeFailed }
                uuid = parsed
            }
            return Request(
                name: name, level: level, baseNames: baseNames, stripSizeKiB: stripSizeKiB, uuid: uuid,
                superblock: superblock)
        }
        let failed = "Failed to create RAID bdev \(request.name)"
        if request.baseNames.contains(where: \.isEmpty) {
            throw JSONRPCError(code: -22, message: "The base bdev name cannot be empty: Invalid argument")
        }
        guard Self.raidLevels[request.level.lowercased()] == "raid1" else {
            throw Self.raidFailure(errno: 22, failed, detail: "raid level \(request.level) is not supported; only raid1 is")
        }
        guard request.stripSizeKiB == 0 else {
            throw Self.raidFailure(errno: 22, failed, detail: "raid1 has no strip size; strip_size_kb must be 0")
        }
        guard !request.superblock else {
            throw Self.raidFailure(errno: 95, failed, detail: "raid superblocks are not supported")
        }
        guard request.baseNames.count <= RAIDLimits.maxSlots else { throw Self.raidDecodeFailed }
        guard registry.lookup(request.name) == nil else { throw Self.raidFailure(errno: 17, failed) }
        var bases: [any BlockDevice] = []
        for baseName in request.baseNames {
            guard let base = registry.lookup(baseName) else {
                throw Self.raidFailure(errno: 19, failed, detail: "base bdev \(baseName) not found")
            }
            bases.append(base)
        }
        let raid: RAID1Device
        do {
            raid = try RAID1Device(name: request.name, baseDevices: bases, uuid: request.uuid, registry: registry)
        } catch {
            throw Self.raidFailure(error, failed)
        }
        do {
            try registry.register(raid)
        } catch {
            raid.delete()
            throw Self.raidFailure(error, failed)
        }
        // Every base went away while the array was made: it would be offline and unregister
        // itself, so it is not kept (the legs' removal reached it; see RAID1Device).
        if raid.snapshot.operationalCount == 0 {
            _ = try? await registry.remove(name: raid.name)
            raid.delete()
            throw Self.raidFailure(errno: 19, failed, detail: "every base bdev was removed")
        }
        return .bool(true)
    }

    /// SPDK's raid level names (matched case-insensitively) and the level each means.
    static let raidLevels: [String: String] = [
        "raid0": "raid0", "0": "raid0", "raid1": "raid1", "1": "raid1", "raid5f": "raid5f", "5f": "raid5f",
        "concat": "concat",
    ]

    /// `bdev_raid_delete` (SPDK's raid_bdev_delete): unregisters the array as a hot remove, so
    /// what sits on it lets go first (an NBD export is deleted, a namespace removed, an lvstore
    /// unloaded), then releases the bases, whose data stays as it is.
    func raidDelete(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        let name = try Self.decodeRaidParams(params) { (decoder: inout Params) throws(JSONRPCError) -> String in
            let name = try decoder.requiredString("name")
            // Upstream (and its rpc.py) sends whether to wipe the superblock; there is none to wipe.
            _ = try decoder.bool("clear_sb")
            return name
        }
        guard let raid = registry.lookup(name) as? RAID1Device, raid.name == name else {
            throw JSONRPCError(code: -19, message: "raid bdev \(name) not found")
        }
        await hotRemove(raid)
        raid.delete()
        return .bool(true)
    }

    /// `bdev_raid_get_bdevs`: the arrays in a state (`all`, `online`, `configuring`, `offline`).
    func raidGetBdevs(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        let category = try Self.decodeRaidParams(params) { (decoder: inout Params) throws(JSONRPCError) in
            try decoder.requiredString("category")
        }.lowercased()
        guard ["all", "online", "configuring", "offline"].contains(category) else {
            throw JSONRPCError(code: -22, message: "Invalid argument")
        }
        let raids = allRaids.map(\.snapshot).filter { category == "all" || $0.state.rawValue == category }
        // The fork writes "uuid" twice here (once itself, once in the raid info); once is enough.
        return .array(raids.map { .object([("name", .string($0.name))] + Self.raidInfo($0)) })
    }

    /// `bdev_raid_remove_base_bdev`: takes a base (by bdev name or alias) out of the array holding it.
    func raidRemoveBase(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        let name = try Self.decodeRaidParams(params) { (decoder: inout Params) throws(JSONRPCError) in
            try decoder.requiredString("name")
        }
        let failure = JSONRPCError(code: -19, message: "Failed to remove base bdev from raid bdev")
        guard let base = registry.lookup(name), let raid = allRaids.first(where: { $0.hasBase(base) }) else {
            throw failure
        }
        do {
            try await raid.removeBase(named: base.name)
        } catch {
            throw JSONRPCError(code: -((error as? BlockError)?.errnoValue ?? 19), message: failure.message)
        }
        return .bool(true)
    }

    /// `bdev_raid_grow_base_bdev` (fork): adds a base to an empty slot or a new one, without rebuild.
    func raidGrowBase(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        let (raidName, baseName) = try Self.decodeRaidParams(params) {
            (decoder: inout Params) throws(JSONRPCError) -> (String, String) in
            (try decoder.requiredString("raid_name"), try decoder.requiredString("base_name"))
        }
        guard let raid = registry.lookup(raidName) as? RAID1Device, raid.name == raidName else {
            throw JSONRPCError(code: -19, message: "raid bdev \(raidName) not found")
        }
        guard let base = registry.lookup(baseName) else {
            throw JSONRPCError(code: -19, message: "base bdev \(baseName) not found")
        }
        do {
            try raid.growBase(base)
        } catch {
            throw Self.raidFailure(error, "Failed to grow raid \(raidName) adding base bdev \(baseName)")
        }
        return .bool(true)
    }

    // MARK: - JSON

    /// The `raid` object of a RAID's `driver_specific` in `bdev_get_bdevs` (spdk.md §2.2).
    static func raidDriverSpecific(_ raid: RAID1Device) -> JSONValue {
        .object(raidInfo(raid.snapshot))
    }

    /// The fork's raid info object, in its key order: uuid, strip_size_kb, state, raid_level,
    /// superblock, num_base_bdevs, num_base_bdevs_discovered, num_base_bdevs_operational,
    /// delta_bitmap_enabled, base_bdevs_list.
    static func raidInfo(_ snapshot: RAID1Snapshot) -> [(key: String, value: JSONValue)] {
        let slots: [JSONValue] = snapshot.slots.map { slot in
            .object([
                ("name", slot.name.map { .string($0) } ?? .null),
                ("uuid", .string(slot.uuid.uuidString.lowercased())),
                ("is_configured", .bool(slot.isConfigured)),
                ("delta_bitmap_state", .string("none")),
                ("data_offset", .integer(slot.dataOffsetBlocks)),
                ("data_size", .integer(slot.dataSizeBlocks)),
            ])
        }
        return [
            ("uuid", .string(snapshot.uuid.uuidString.lowercased())),
            ("strip_size_kb", .integer(snapshot.stripSizeKiB)),
            ("state", .string(snapshot.state.rawValue)),
            ("raid_level", .string(snapshot.level)),
            ("superblock", .bool(false)),
            ("num_base_bdevs", .integer(snapshot.slotCount)),
            ("num_base_bdevs_discovered", .integer(snapshot.discoveredCount)),
            ("num_base_bdevs_operational", .integer(snapshot.operationalCount)),
            ("delta_bitmap_enabled", .bool(false)),
            ("base_bdevs_list", .array(slots)),
        ]
    }
}
