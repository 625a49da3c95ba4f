// The `bdev_get_bdevs` object of a device (spdk.md §2.2), with the module's driver_specific.

import BlockCore
import BlockDevices
import Foundation
import JSONRPC
import LogicalVolumes
import NVMeTCP
import RAID

enum BdevJSON {
    static func describe(_ device: any BlockDevice) -> JSONValue {
        let limits = device.ioControl.limits
        var members: [(key: String, value: JSONValue)] = [
            ("name", .string(device.name)),
            ("aliases", .array(device.aliases.map { .string($0) })),
            ("product_name", .string(device.productName)),
            ("block_size", .integer(device.blockSize)),
            ("num_blocks", .integer(device.blockCount)),
            ("uuid", .string(device.uuid.uuidString.lowercased())),
            ("creation_time", .string((device as? LogicalVolume)?.creationTime ?? "")),
            ("assigned_rate_limits", .object([
                ("rw_ios_per_sec", .integer(limits.readWriteIOsPerSecond)),
                ("rw_mbytes_per_sec", .integer(limits.readWriteMegabytesPerSecond)),
                ("r_mbytes_per_sec", .integer(limits.readMegabytesPerSecond)),
                ("w_mbytes_per_sec", .integer(limits.writeMegabytesPerSecond)),
            ])),
        ]
        let claims = device.claims.current
        members.append(("claimed", .bool(claims.claimant != nil)))
        if claims.claimant != nil { members.append(("claim_type", .string("exclusive_write"))) }
        members.append(("zoned", .bool(false)))
        let types = device.supportedIOTypes
        let allTypes = [
            "read", "write", "unmap", "flush", "reset", "nvme_admin", "nvme_io", "nvme_io_md", "write_zeroes", "zcopy",
            "get_zone_info", "zone_management", "zone_append", "compare", "compare_and_write", "abort", "seek_hole",
            "seek_data", "copy", "nvme_iov_md",
        ]
        let supported = Set(IOTypes.spdkNames.filter { types.contains($0.0) }.map(\.1))
        members.append(("supported_io_types", .object(allTypes.map { ($0, .bool(supported.contains($0))) })))
        members.append(("driver_specific", driverSpecific(device)))
        return .object(members)
    }

    private static func driverSpecific(_ device: any BlockDevice) -> JSONValue {
        if let raid = device as? RAID1Device { return .object([("raid", SPDKTarget.raidDriverSpecific(raid))]) }
        if let namespace = device as? NVMeNamespaceDevice {
            return .object([("nvme", SPDKTarget.nvmeDriverSpecific(namespace)), ("mp_policy", .string("active_passive"))])
        }
        if let aio = device as? AIODevice {
            return .object([("aio", .object([
                ("filename", .string(aio.filename)), ("block_size_override", .bool(false)),
                ("readonly", .bool(aio.readOnly)), ("fallocate", .bool(false)),
            ]))])
        }
        if let lvol = device as? LogicalVolume {
            var fields: [(key: String, value: JSONValue)] = [
                ("lvol_store_uuid", .string(lvol.lvstore.uuid.uuidString.lowercased())),
                ("base_bdev", .string(lvol.lvstore.baseDevice.name)),
                ("thin_provision", .bool(lvol.isThinProvisioned)),
                ("num_allocated_clusters", .integer(lvol.allocatedClusters)),
                ("snapshot", .bool(lvol.isSnapshot)),
                ("clone", .bool(lvol.isClone)),
                ("esnap_clone", .bool(false)),
            ]
            if let parent = lvol.parent { fields.append(("base_snapshot", .string(parent.lvolName))) }
            if lvol.isSnapshot { fields.append(("clones", .array(lvol.clones.map { .string($0.lvolName) }))) }
            return .object([("lvol", .object(fields))])
        }
        return .object([])
    }
}
