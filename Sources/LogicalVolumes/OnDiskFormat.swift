// Hornbill lvstore on-disk format, version 1. docs/lvstore-format.md describes it in prose; this
// file is the single place that encodes and decodes it.
//
// Device layout (byte offsets; P = metadata page size = max(4096, block size)):
//   [0, P)                     superblock, written once at create
//   [2P, 2P+C)                 checkpoint slot A (even epochs)
//   [2P+C, 2P+2C)              checkpoint slot B (odd epochs)
//   [2P+2C, 2P+2C+J)           journal of the current epoch
//   [firstDataCluster × cluster size, …)   data clusters
// Every structure carries the store's UUID and a CRC32C, so stale or foreign bytes are never
// mistaken for metadata.

import BlockCore
import StorageKit

enum FormatConstants {
    static let superblockMagic: [UInt8] = Array("HBLVSTOR".utf8)
    static let checkpointMagic: [UInt8] = Array("HBCKPT01".utf8)
    static let journalMagic: [UInt8] = Array("HBJRNL01".utf8)
    static let formatVersion: UInt32 = 1
    /// Bytes reserved at the start of a checkpoint slot and of a journal entry for their header.
    static let headerBytes = 64
    static let uuidBytes = 16
}

/// The immutable description of an lvstore, stored in its first page.
struct Superblock: Equatable, Sendable {
    var pageSize: Int
    var blockSize: Int
    var clusterSize: Int
    var storeUUID: [UInt8]
    var firstDataCluster: UInt64
    var checkpointOffset: UInt64
    var checkpointBytes: UInt64
    var journalOffset: UInt64
    var journalBytes: UInt64
    var clearMethod: ClearMethod
    var metadataPercent: UInt32

    /// Plans the metadata region for a device of `deviceBytes`.
    static func plan(
        deviceBytes: UInt64, blockSize: Int, clusterSize: Int, storeUUID: [UInt8], clearMethod: ClearMethod,
        metadataPercent: Int
    ) throws -> Superblock {
        let pageSize = max(LvolLimits.metadataPageSize, blockSize)
        let totalClusters = deviceBytes / UInt64(clusterSize)
        let wanted = max(
            totalClusters * UInt64(pageSize) * UInt64(metadataPercent) / 100,
            UInt64(2 * pageSize + 3 * LvolLimits.minJournalBytes))
        let metadataClusters = (wanted + UInt64(clusterSize) - 1) / UInt64(clusterSize)
        guard metadataClusters < totalClusters else {
            throw BlockError(
                .noSpace,
                "a device of \(deviceBytes) bytes has \(totalClusters) clusters of \(clusterSize) bytes, too few for metadata (\(metadataClusters) clusters) and data")
        }
        let regionBytes = metadataClusters * UInt64(clusterSize)
        let page = UInt64(pageSize)
        var journalBytes = max(UInt64(LvolLimits.minJournalBytes), regionBytes / 4)
        journalBytes -= journalBytes % page
        var checkpointBytes = (regionBytes - 2 * page - journalBytes) / 2
        checkpointBytes -= checkpointBytes % page
        return Superblock(
            pageSize: pageSize, blockSize: blockSize, clusterSize: clusterSize, storeUUID: storeUUID,
            firstDataCluster: metadataClusters, checkpointOffset: 2 * page, checkpointBytes: checkpointBytes,
            journalOffset: 2 * page + 2 * checkpointBytes, journalBytes: journalBytes, clearMethod: clearMethod,
            metadataPercent: UInt32(metadataPercent))
    }

    func encode() -> [UInt8] {
        var writer = MetadataWriter()
        writer.raw(FormatConstants.superblockMagic)
        writer.u32(FormatConstants.formatVersion)
        writer.u32(UInt32(pageSize))
        writer.u32(UInt32(blockSize))
        writer.u32(UInt32(clusterSize))
        writer.raw(storeUUID)
        writer.u64(firstDataCluster)
        writer.u64(checkpointOffset)
        writer.u64(checkpointBytes)
        writer.u64(journalOffset)
        writer.u64(journalBytes)
        writer.u8(clearMethod.rawValue)
        writer.u32(metadataPercent)
        var bytes = writer.bytes
        let crc = CRC32C.checksum(bytes)
        withUnsafeBytes(of: crc.littleEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Decodes page 0. Returns nil when the page does not hold an lvstore at all (no magic);
    /// throws `.corrupted` when it does but is damaged or of an unknown version.
    static func decode(_ page: [UInt8], deviceName: String) throws -> Superblock? {
        guard page.count >= 8, Array(page[0..<8]) == FormatConstants.superblockMagic else { return nil }
        var reader = MetadataReader(page, context: "superblock of \(deviceName)")
        _ = try reader.raw(8, "magic")
        let version = try reader.u32("format version")
        guard version == FormatConstants.formatVersion else {
            throw BlockError(.corrupted, "\(deviceName) holds an lvstore of format version \(version); this build reads version \(FormatConstants.formatVersion)")
        }
        let pageSize = Int(try reader.u32("page size"))
        let blockSize = Int(try reader.u32("block size"))
        let clusterSize = Int(try reader.u32("cluster size"))
        let uuid = try reader.raw(FormatConstants.uuidBytes, "store uuid")
        let firstDataCluster = try reader.u64("first data cluster")
        let checkpointOffset = try reader.u64("checkpoint offset")
        let checkpointBytes = try reader.u64("checkpoint size")
        let journalOffset = try reader.u64("journal offset")
        let journalBytes = try reader.u64("journal size")
        let clearRaw = try reader.u8("clear method")
        let percent = try reader.u32("metadata percent")
        let end = reader.offset
        let storedCRC = try reader.u32("checksum")
        guard CRC32C.checksum(Array(page[0..<end])) == storedCRC else {
            throw BlockError(.corrupted, "the lvstore superblock on \(deviceName) fails its checksum")
        }
        guard let clearMethod = ClearMethod(rawValue: clearRaw),
            pageSize >= LvolLimits.metadataPageSize, clusterSize >= LvolLimits.minClusterSize,
            clusterSize % blockSize == 0, pageSize % blockSize == 0,
            checkpointOffset % UInt64(pageSize) == 0, journalOffset == checkpointOffset + 2 * checkpointBytes,
            journalOffset + journalBytes <= firstDataCluster * UInt64(clusterSize)
        else {
            throw BlockError(.corrupted, "the lvstore superblock on \(deviceName) has an inconsistent layout")
        }
        return Superblock(
            pageSize: pageSize, blockSize: blockSize, clusterSize: clusterSize, storeUUID: uuid,
            firstDataCluster: firstDataCluster, checkpointOffset: checkpointOffset, checkpointBytes: checkpointBytes,
            journalOffset: journalOffset, journalBytes: journalBytes, clearMethod: clearMethod,
            metadataPercent: percent)
    }

    func checkpointSlotOffset(epoch: UInt64) -> UInt64 { checkpointOffset + (epoch % 2) * checkpointBytes }
}

// MARK: - Records and state

extension LvolHeader {
    func encode(into writer: inout MetadataWriter) {
        writer.u64(id)
        writer.raw(uuid)
        writer.string(name)
        writer.u8(flags.rawValue)
        writer.u64(sizeClusters)
        writer.u64(parentID)
        writer.u8(clearMethod.rawValue)
        writer.string(creationTime)
        writer.u32(UInt32(xattrs.count))
        for key in xattrs.keys.sorted() {
            writer.string(key)
            writer.blob(xattrs[key]!)
        }
    }

    /// Bytes this header takes when encoded.
    var encodedBytes: Int {
        8 + 16 + 4 + name.utf8.count + 1 + 8 + 8 + 1 + 4 + creationTime.utf8.count + 4
            + xattrs.reduce(0) { $0 + 8 + $1.key.utf8.count + $1.value.count }
    }

    static func decode(from reader: inout MetadataReader) throws -> LvolHeader {
        let id = try reader.u64("lvol id")
        let uuid = try reader.raw(FormatConstants.uuidBytes, "lvol uuid")
        let name = try reader.string("lvol name")
        let flags = LvolFlags(rawValue: try reader.u8("lvol flags"))
        let size = try reader.u64("lvol size")
        let parent = try reader.u64("lvol parent")
        guard let clear = ClearMethod(rawValue: try reader.u8("lvol clear method")) else {
            throw BlockError(.corrupted, "\(reader.context): lvol \(name) has an unknown clear method")
        }
        let creationTime = try reader.string("creation time", max: 64)
        let count = Int(try reader.u32("xattr count"))
        var xattrs: [String: [UInt8]] = [:]
        for _ in 0..<count {
            guard reader.remaining > 0 else { throw BlockError(.corrupted, "\(reader.context): truncated xattrs") }
            let key = try reader.string("xattr name")
            xattrs[key] = try reader.blob("xattr \(key)", max: LvolLimits.maxXattrValueBytes)
        }
        guard id != 0, size <= UInt64(UInt32.max) else {
            throw BlockError(.corrupted, "\(reader.context): lvol \(name) has an invalid id or size")
        }
        return LvolHeader(
            id: id, uuid: uuid, name: name, flags: flags, sizeClusters: size, parentID: parent, clearMethod: clear,
            creationTime: creationTime, xattrs: xattrs)
    }
}

extension MetadataRecord {
    func encode(into writer: inout MetadataWriter) {
        switch self {
        case .putLvol(let header):
            writer.u8(1)
            header.encode(into: &writer)
        case .deleteLvol(let id):
            writer.u8(2)
            writer.u64(id)
        case .mapClusters(let id, let entries):
            writer.u8(3)
            writer.u64(id)
            writer.u32(UInt32(entries.count))
            for entry in entries {
                writer.u32(UInt32(entry.index))
                writer.u32(entry.cluster)
            }
        case .transferClusters(let from, let to):
            writer.u8(4)
            writer.u64(from)
            writer.u64(to)
        case .mergeSnapshot(let snapshot, let clone):
            writer.u8(5)
            writer.u64(snapshot)
            writer.u64(clone)
        case .renameStore(let name):
            writer.u8(6)
            writer.string(name)
        case .setTotalClusters(let count):
            writer.u8(7)
            writer.u64(count)
        case .opened:
            writer.u8(8)
        }
    }

    /// Upper bound of the encoded size.
    var encodedBytes: Int {
        switch self {
        case .putLvol(let header): 1 + header.encodedBytes
        case .mapClusters(_, let entries): 13 + 8 * entries.count
        case .renameStore(let name): 5 + name.utf8.count
        default: 17
        }
    }

    static func decode(from reader: inout MetadataReader) throws -> MetadataRecord {
        let tag = try reader.u8("record type")
        switch tag {
        case 1: return .putLvol(try LvolHeader.decode(from: &reader))
        case 2: return .deleteLvol(id: try reader.u64("lvol id"))
        case 3:
            let id = try reader.u64("lvol id")
            let count = Int(try reader.u32("entry count"))
            guard count * 8 <= reader.remaining else {
                throw BlockError(.corrupted, "\(reader.context): cluster map record claims \(count) entries")
            }
            var entries: [(index: UInt64, cluster: UInt32)] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                entries.append((UInt64(try reader.u32("cluster index")), try reader.u32("cluster")))
            }
            return .mapClusters(id: id, entries: entries)
        case 4: return .transferClusters(from: try reader.u64("source"), to: try reader.u64("target"))
        case 5: return .mergeSnapshot(snapshot: try reader.u64("snapshot"), clone: try reader.u64("clone"))
        case 6: return .renameStore(try reader.string("store name"))
        case 7: return .setTotalClusters(try reader.u64("total clusters"))
        case 8: return .opened
        default: throw BlockError(.corrupted, "\(reader.context): unknown record type \(tag)")
        }
    }
}

extension MetadataState {
    /// Bytes of the encoded state (the checkpoint payload).
    var encodedBytes: Int {
        4 + storeName.utf8.count + 28 + lvols.values.reduce(0) { $0 + $1.header.encodedBytes + 8 + 8 * $1.allocatedCount }
    }

    func encode() -> [UInt8] {
        var writer = MetadataWriter(reservingCapacity: encodedBytes)
        writer.string(storeName)
        writer.u64(totalClusters)
        writer.u64(firstDataCluster)
        writer.u64(nextLvolID)
        writer.u32(UInt32(lvols.count))
        for id in lvols.keys.sorted() {
            let lvol = lvols[id]!
            lvol.header.encode(into: &writer)
            writer.u64(UInt64(lvol.allocatedCount))
            for (index, cluster) in lvol.map.enumerated() where cluster != unmappedCluster {
                writer.u32(UInt32(index))
                writer.u32(cluster)
            }
        }
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8], context: String) throws -> MetadataState {
        var reader = MetadataReader(bytes, context: context)
        var state = MetadataState(
            storeName: try reader.string("store name"), totalClusters: try reader.u64("total clusters"),
            firstDataCluster: try reader.u64("first data cluster"), nextLvolID: try reader.u64("next lvol id"),
            lvols: [:])
        guard state.totalClusters <= LvolLimits.maxClusters, state.firstDataCluster < state.totalClusters else {
            throw BlockError(
                .corrupted, "\(context): \(state.totalClusters) clusters with data from cluster \(state.firstDataCluster)")
        }
        let count = Int(try reader.u32("lvol count"))
        for _ in 0..<count {
            guard reader.remaining > 0 else { throw BlockError(.corrupted, "\(context): truncated lvol list") }
            let header = try LvolHeader.decode(from: &reader)
            guard header.sizeClusters <= state.totalClusters * LvolLimits.maxOverprovisionFactor else {
                throw BlockError(.corrupted, "\(context): lvol \(header.name) claims \(header.sizeClusters) clusters")
            }
            var map = [UInt32](repeating: unmappedCluster, count: Int(header.sizeClusters))
            let claimed = try reader.u64("allocated count")
            guard claimed <= UInt64(map.count), claimed * 8 <= UInt64(reader.remaining) else {
                throw BlockError(.corrupted, "\(context): lvol \(header.name) claims \(claimed) clusters")
            }
            let allocated = Int(claimed)
            for _ in 0..<allocated {
                let index = Int(try reader.u32("cluster index"))
                let cluster = try reader.u32("cluster")
                guard index < map.count, map[index] == unmappedCluster, cluster != unmappedCluster else {
                    throw BlockError(.corrupted, "\(context): lvol \(header.name) has an invalid map entry at index \(index)")
                }
                map[index] = cluster
            }
            guard state.lvols[header.id] == nil else {
                throw BlockError(.corrupted, "\(context): lvol id \(header.id) appears twice")
            }
            state.lvols[header.id] = LvolMetadata(header: header, map: map, allocatedCount: allocated)
        }
        guard reader.remaining == 0 else { throw BlockError(.corrupted, "\(context): \(reader.remaining) trailing bytes") }
        return state
    }
}

// MARK: - Framing of checkpoints and journal entries

/// A checkpoint slot or journal entry header: magic, store uuid, epoch, sequence, sizes and a CRC
/// over header and payload.
struct FrameHeader: Equatable {
    var magic: [UInt8]
    var storeUUID: [UInt8]
    var epoch: UInt64
    var sequence: UInt64
    var clean: Bool
    var payloadBytes: UInt32

    /// Frames `payload` into whole pages.
    func frame(_ payload: [UInt8], pageSize: Int) -> [UInt8] {
        var writer = MetadataWriter(reservingCapacity: FormatConstants.headerBytes + payload.count + pageSize)
        writer.raw(magic)
        writer.raw(storeUUID)
        writer.u64(epoch)
        writer.u64(sequence)
        writer.bool(clean)
        writer.u32(payloadBytes)
        var bytes = writer.bytes
        let crcOffset = bytes.count
        bytes.append(contentsOf: [0, 0, 0, 0])
        bytes.append(contentsOf: repeatElement(0, count: FormatConstants.headerBytes - bytes.count))
        bytes.append(contentsOf: payload)
        let padded = (bytes.count + pageSize - 1) / pageSize * pageSize
        bytes.append(contentsOf: repeatElement(0, count: padded - bytes.count))
        let crc = CRC32C.checksum(Array(bytes[0..<(FormatConstants.headerBytes + payload.count)]))
        withUnsafeBytes(of: crc.littleEndian) { raw in
            for i in 0..<4 { bytes[crcOffset + i] = raw[i] }
        }
        return bytes
    }

    static func framedBytes(payloadBytes: Int, pageSize: Int) -> Int {
        (FormatConstants.headerBytes + payloadBytes + pageSize - 1) / pageSize * pageSize
    }

    /// Reads the header at the start of `bytes`; nil when magic or uuid do not match (not ours).
    static func peek(_ bytes: [UInt8], magic: [UInt8], storeUUID: [UInt8]) -> FrameHeader? {
        guard bytes.count >= FormatConstants.headerBytes, Array(bytes[0..<8]) == magic,
            Array(bytes[8..<24]) == storeUUID
        else { return nil }
        var reader = MetadataReader(Array(bytes[24..<FormatConstants.headerBytes]), context: "frame")
        guard let epoch = try? reader.u64("epoch"), let sequence = try? reader.u64("sequence"),
            let clean = try? reader.bool("clean"), let payloadBytes = try? reader.u32("payload")
        else { return nil }
        return FrameHeader(
            magic: magic, storeUUID: storeUUID, epoch: epoch, sequence: sequence, clean: clean,
            payloadBytes: payloadBytes)
    }

    /// Verifies the CRC of a whole frame and returns its payload; nil when torn or damaged.
    static func verifiedPayload(_ bytes: [UInt8], header: FrameHeader) -> [UInt8]? {
        let end = FormatConstants.headerBytes + Int(header.payloadBytes)
        guard end <= bytes.count else { return nil }
        let crcOffset = 24 + 8 + 8 + 1 + 4
        var copy = Array(bytes[0..<end])
        let stored = copy[crcOffset..<(crcOffset + 4)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        for i in 0..<4 { copy[crcOffset + i] = 0 }
        guard CRC32C.checksum(copy) == stored else { return nil }
        return Array(bytes[FormatConstants.headerBytes..<end])
    }
}
