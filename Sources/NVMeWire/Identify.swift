// Identify data structures (CNS 0x01 controller, 0x00 namespace, 0x02 active namespace list,
// 0x03 namespace identification descriptors) with the fields a Linux or SPDK host reads
// (spdk.md §5.5). Offsets are the NVMe base specification's.

/// What a controller reports about itself in Identify Controller.
public struct ControllerIdentity: Sendable, Equatable {
    public var serialNumber: String
    public var modelNumber: String
    public var firmwareRevision: String
    public var controllerID: UInt16
    public var subsystemNQN: String
    /// NN: the highest namespace ID.
    public var maxNamespaces: UInt32
    public var isDiscovery: Bool
    /// MAXCMD: commands outstanding per queue.
    public var queueDepth: Int
    public var maxIOBytes: Int
    public var inCapsuleDataBytes: Int
    public var volatileWriteCache: Bool
    public var supportsDatasetManagement: Bool
    public var supportsWriteZeroes: Bool
    public var anaReporting: Bool

    public init(
        serialNumber: String, modelNumber: String, firmwareRevision: String, controllerID: UInt16, subsystemNQN: String,
        maxNamespaces: UInt32, isDiscovery: Bool = false, queueDepth: Int = NVMeWireLimits.maxQueueDepth,
        maxIOBytes: Int = NVMeWireLimits.maxIOBytes, inCapsuleDataBytes: Int = NVMeWireLimits.inCapsuleDataBytes,
        volatileWriteCache: Bool = true, supportsDatasetManagement: Bool = true, supportsWriteZeroes: Bool = true,
        anaReporting: Bool = false
    ) {
        self.serialNumber = serialNumber
        self.modelNumber = modelNumber
        self.firmwareRevision = firmwareRevision
        self.controllerID = controllerID
        self.subsystemNQN = subsystemNQN
        self.maxNamespaces = maxNamespaces
        self.isDiscovery = isDiscovery
        self.queueDepth = queueDepth
        self.maxIOBytes = maxIOBytes
        self.inCapsuleDataBytes = inCapsuleDataBytes
        self.volatileWriteCache = volatileWriteCache
        self.supportsDatasetManagement = supportsDatasetManagement
        self.supportsWriteZeroes = supportsWriteZeroes
        self.anaReporting = anaReporting
    }

    /// NVMe version 1.3, as SPDK's fork reports.
    public static let version: UInt32 = 0x0001_0300

    public func encode() -> [UInt8] {
        .filled(count: NVMeWireLimits.identifyBytes) { d in
            d.put(UInt16(0x8086), at: 0)  // VID
            d.put(UInt16(0x8086), at: 2)  // SSVID
            d.putASCII(serialNumber, at: 4, width: 20)
            d.putASCII(modelNumber, at: 24, width: 40)
            d.putASCII(firmwareRevision, at: 64, width: 8)
            d[72] = 6  // RAB
            d[73] = 0xE4; d[74] = 0xD2; d[75] = 0x5C  // IEEE OUI
            d[76] = 0x03 | (anaReporting ? 0x08 : 0)  // CMIC: multi-port, multi-controller, ANA
            var mdts: UInt8 = 0
            while (4096 << Int(mdts)) < maxIOBytes { mdts += 1 }
            d[77] = mdts
            d.put(controllerID, at: 78)
            d.put(Self.version, at: 80)
            d.put(UInt32(isDiscovery ? 0x8000_0000 : 0x0100 | (anaReporting ? 0x0800 : 0)), at: 92)  // OAES
            d.put(UInt32(0x01), at: 96)  // CTRATT: 128-bit host identifier
            d[111] = isDiscovery ? 2 : 1  // CNTRLTYPE
            d.put(UInt16(0), at: 256)  // OACS
            d[258] = 3  // ACL
            d[259] = 3  // AERL: four outstanding
            d[260] = 0x03  // FRMW: one slot, slot 1 read-only
            d[261] = 0x06  // LPA: command effects, extended data
            d[262] = 127  // ELPE
            d.put(UInt16(100), at: 320)  // KAS: 100 × 100 ms
            if anaReporting {
                d[343] = 10  // ANATT seconds
                d[344] = 0x07  // ANACAP: optimized, non-optimized, inaccessible
                d.put(maxNamespaces, at: 345)  // ANAGRPMAX
                d.put(maxNamespaces, at: 349)  // NANAGRPID
            }
            d[512] = 0x66  // SQES
            d[513] = 0x44  // CQES
            d.put(UInt16(queueDepth), at: 514)  // MAXCMD
            d.put(maxNamespaces, at: 516)  // NN
            var oncs: UInt16 = 0
            if supportsDatasetManagement { oncs |= 1 << 2 }
            if supportsWriteZeroes { oncs |= 1 << 3 }
            d.put(oncs, at: 520)
            d[525] = volatileWriteCache ? 0x01 : 0  // VWC present
            d.put(UInt32(0x0010_0005), at: 536)  // SGLS: supported, keyed, offset
            d.putASCII(subsystemNQN, at: 768, width: 256, pad: 0)
            d.put(UInt32((64 + inCapsuleDataBytes) / 16), at: 1792)  // IOCCSZ
            d.put(UInt32(1), at: 1796)  // IORCSZ
            d.put(UInt16(0), at: 1800)  // ICDOFF
            d[1802] = 0  // FCATT: dynamic controller model
            d[1803] = 1  // MSDBD
        }
    }

    public init(bytes d: UnsafeRawBufferPointer) {
        serialNumber = asciiField(d, 4, 20)
        modelNumber = asciiField(d, 24, 40)
        firmwareRevision = asciiField(d, 64, 8)
        controllerID = d.le(78)
        subsystemNQN = asciiField(d, 768, 256)
        maxNamespaces = d.le(516)
        isDiscovery = d[111] == 2
        queueDepth = Int(d.le(514, as: UInt16.self))
        // MDTS 0 is "no limit"; beyond 2^20 pages the shift would leave Int: as good as none.
        maxIOBytes = d[77] == 0 || d[77] > 20 ? Int.max : 4096 << Int(d[77])
        inCapsuleDataBytes = max(Int(d.le(1792, as: UInt32.self)) * 16 - 64, 0)
        volatileWriteCache = d[525] & 1 != 0
        let oncs: UInt16 = d.le(520)
        supportsDatasetManagement = oncs & (1 << 2) != 0
        supportsWriteZeroes = oncs & (1 << 3) != 0
        anaReporting = d[76] & 0x08 != 0
    }
}

/// What a namespace reports in Identify Namespace and its identification descriptors.
public struct NamespaceIdentity: Sendable, Equatable {
    public var blockCount: UInt64
    public var blockSize: Int
    public var nguid: [UInt8]
    public var eui64: [UInt8]
    public var uuid: [UInt8]
    public var anaGroupID: UInt32

    public init(blockCount: UInt64, blockSize: Int, uuid: [UInt8], anaGroupID: UInt32 = 0) {
        precondition(uuid.count == 16 && blockSize > 0 && blockSize & (blockSize - 1) == 0)
        self.blockCount = blockCount
        self.blockSize = blockSize
        self.uuid = uuid
        nguid = uuid
        eui64 = Array(uuid.prefix(8))
        self.anaGroupID = anaGroupID
    }

    public func encode() -> [UInt8] {
        .filled(count: NVMeWireLimits.identifyBytes) { d in
            d.put(blockCount, at: 0)  // NSZE
            d.put(blockCount, at: 8)  // NCAP
            d.put(blockCount, at: 16)  // NUSE
            d[24] = 0x10  // NSFEAT: optimal performance fields
            d[25] = 0  // NLBAF: one format
            d[26] = 0  // FLBAS: format 0
            d[30] = 0x01  // NMIC: may be shared
            d[33] = 0x09  // DLFEAT: deallocated blocks read as zeroes; write zeroes may deallocate
            d.put(anaGroupID, at: 92)
            for (index, byte) in nguid.enumerated() { d[104 + index] = byte }
            for (index, byte) in eui64.enumerated() { d[120 + index] = byte }
            d[128 + 2] = UInt8(blockSize.trailingZeroBitCount)  // LBAF0.LBADS
        }
    }

    public init(bytes d: UnsafeRawBufferPointer) {
        blockCount = d.le(0)
        let format = Int(d[26] & 0x0F)
        let shift = Int(d[128 + 4 * format + 2])
        blockSize = shift < 32 ? 1 << shift : 0
        nguid = Array(d[104..<120])
        eui64 = Array(d[120..<128])
        uuid = nguid
        anaGroupID = d.le(92)
    }

    /// CNS 0x03: the namespace identification descriptor list (EUI64, NGUID, UUID, CSI).
    public func descriptorList() -> [UInt8] {
        .filled(count: NVMeWireLimits.identifyBytes) { d in
            var offset = 0
            func add(_ type: UInt8, _ bytes: [UInt8]) {
                d[offset] = type
                d[offset + 1] = UInt8(bytes.count)
                for (index, byte) in bytes.enumerated() { d[offset + 4 + index] = byte }
                offset += 4 + bytes.count
            }
            add(1, eui64)
            add(2, nguid)
            add(3, uuid)
            add(4, [0])  // CSI: NVM command set
        }
    }

    /// The UUID found in a descriptor list, if any.
    public static func uuid(inDescriptorList d: UnsafeRawBufferPointer) -> [UInt8]? {
        var offset = 0
        while offset + 4 <= d.count {
            let type = d[offset], length = Int(d[offset + 1])
            guard type != 0, offset + 4 + length <= d.count else { return nil }
            if type == 3, length == 16 { return Array(d[(offset + 4)..<(offset + 20)]) }
            offset += 4 + length
        }
        return nil
    }
}

/// CNS 0x02: active namespace IDs above `after`, ascending, up to 1024.
public func activeNamespaceList(_ ids: [UInt32], after: UInt32) -> [UInt8] {
    .filled(count: NVMeWireLimits.identifyBytes) { d in
        for (index, id) in ids.filter({ $0 > after }).sorted().prefix(1024).enumerated() { d.put(id, at: index * 4) }
    }
}
