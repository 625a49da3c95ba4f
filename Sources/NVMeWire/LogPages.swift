// Log pages (Get Log Page) and the discovery log (spdk.md §5.5).

/// One discovery log entry (1024 bytes).
public struct DiscoveryLogEntry: Sendable, Equatable {
    /// Subsystem types.
    public static let subtypeDiscoveryReferral: UInt8 = 1
    public static let subtypeNVMe: UInt8 = 2
    public static let subtypeCurrentDiscovery: UInt8 = 3

    public var subtype: UInt8
    public var portID: UInt16
    public var adminQueueSize: UInt16
    public var serviceID: String
    public var subsystemNQN: String
    public var address: String
    public var isIPv6: Bool

    public init(subtype: UInt8, portID: UInt16, adminQueueSize: UInt16, serviceID: String, subsystemNQN: String, address: String, isIPv6: Bool = false) {
        self.subtype = subtype
        self.portID = portID
        self.adminQueueSize = adminQueueSize
        self.serviceID = serviceID
        self.subsystemNQN = subsystemNQN
        self.address = address
        self.isIPv6 = isIPv6
    }

    func write(into d: UnsafeMutableRawBufferPointer) {
        d[0] = 3  // TRTYPE: TCP
        d[1] = isIPv6 ? 2 : 1  // ADRFAM
        d[2] = subtype
        d[3] = 2  // TREQ: secure channel not required
        d.put(portID, at: 4)
        d.put(UInt16(0xFFFF), at: 6)  // CNTLID: dynamic
        d.put(adminQueueSize, at: 8)
        d.putASCII(serviceID, at: 32, width: 32)
        d.putASCII(subsystemNQN, at: 256, width: 256, pad: 0)
        d.putASCII(address, at: 512, width: 256)
        d[768] = 0  // TSAS: no security
    }

    public init(bytes d: UnsafeRawBufferPointer) {
        isIPv6 = d[1] == 2
        subtype = d[2]
        portID = d.le(4)
        adminQueueSize = d.le(8)
        serviceID = asciiField(d, 32, 32)
        subsystemNQN = asciiField(d, 256, 256)
        address = asciiField(d, 512, 256)
    }
}

public enum LogPages {
    /// The discovery log: a 1024-byte header (generation counter, record count, format) and entries.
    public static func discovery(generation: UInt64, entries: [DiscoveryLogEntry]) -> [UInt8] {
        let size = NVMeWireLimits.discoveryEntryBytes
        return .filled(count: size * (entries.count + 1)) { d in
            d.put(generation, at: 0)
            d.put(UInt64(entries.count), at: 8)
            d.put(UInt16(0), at: 16)
            for (index, entry) in entries.enumerated() {
                entry.write(into: UnsafeMutableRawBufferPointer(rebasing: d[(size * (index + 1))..<(size * (index + 2))]))
            }
        }
    }

    /// Parses a discovery log (header and as many entries as are present).
    public static func parseDiscovery(_ d: UnsafeRawBufferPointer) -> (generation: UInt64, records: UInt64, entries: [DiscoveryLogEntry])? {
        let size = NVMeWireLimits.discoveryEntryBytes
        guard d.count >= size else { return nil }
        let records: UInt64 = d.le(8)
        var entries: [DiscoveryLogEntry] = []
        var offset = size
        while offset + size <= d.count, UInt64(entries.count) < records {
            entries.append(DiscoveryLogEntry(bytes: UnsafeRawBufferPointer(rebasing: d[offset..<(offset + size)])))
            offset += size
        }
        return (d.le(0), records, entries)
    }

    /// SMART / health information (512 bytes): no warnings, data units and commands counted.
    public static func health(
        dataUnitsRead: UInt64, dataUnitsWritten: UInt64, readCommands: UInt64, writeCommands: UInt64
    ) -> [UInt8] {
        .filled(count: 512) { d in
            d.put(UInt16(273 + 25), at: 1)  // composite temperature, kelvin (25 °C)
            d[3] = 100  // available spare
            d[4] = 10  // available spare threshold
            d.put(dataUnitsRead, at: 32)
            d.put(dataUnitsWritten, at: 48)
            d.put(readCommands, at: 64)
            d.put(writeCommands, at: 80)
        }
    }

    /// Firmware slot information: slot 1 active, holding `revision`.
    public static func firmwareSlot(revision: String) -> [UInt8] {
        .filled(count: 512) { d in
            d[0] = 1
            d.putASCII(revision, at: 8, width: 8)
        }
    }

    /// Changed namespace list: up to 1024 IDs; more than that reports 0xFFFFFFFF alone.
    public static func changedNamespaces(_ ids: [UInt32]) -> [UInt8] {
        .filled(count: NVMeWireLimits.identifyBytes) { d in
            if ids.count > 1024 {
                d.put(UInt32.max, at: 0)
            } else {
                for (index, id) in ids.sorted().enumerated() { d.put(id, at: index * 4) }
            }
        }
    }

    /// Commands supported and effects: which admin and I/O opcodes exist and what they change.
    public static func commandEffects() -> [UInt8] {
        .filled(count: NVMeWireLimits.identifyBytes) { d in
            let supported: UInt32 = 1
            let changesContent: UInt32 = 1 << 1
            for opcode in [
                AdminOpcode.getLogPage, AdminOpcode.identify, AdminOpcode.abort, AdminOpcode.setFeatures,
                AdminOpcode.getFeatures, AdminOpcode.asyncEventRequest, AdminOpcode.keepAlive,
            ] {
                d.put(supported, at: Int(opcode) * 4)
            }
            for opcode in [IOOpcode.flush, IOOpcode.read] { d.put(supported, at: 1024 + Int(opcode) * 4) }
            for opcode in [IOOpcode.write, IOOpcode.writeZeroes, IOOpcode.datasetManagement] {
                d.put(supported | changesContent, at: 1024 + Int(opcode) * 4)
            }
        }
    }

    /// ANA states.
    public enum ANAState: UInt8, Sendable {
        case optimized = 0x01
        case nonOptimized = 0x02
        case inaccessible = 0x03
        case persistentLoss = 0x04
        case change = 0x0F
    }

    /// Asymmetric namespace access log: one group per namespace (group ID = NSID), as SPDK does.
    public static func asymmetricNamespaceAccess(changeCount: UInt64, groups: [(groupID: UInt32, state: ANAState, namespaces: [UInt32])]) -> [UInt8] {
        var bytes = [UInt8].filled(count: 16) { d in
            d.put(changeCount, at: 0)
            d.put(UInt16(groups.count), at: 8)
        }
        for group in groups {
            bytes += .filled(count: 32 + 4 * group.namespaces.count) { d in
                d.put(group.groupID, at: 0)
                d.put(UInt32(group.namespaces.count), at: 4)
                d.put(changeCount, at: 8)
                d[16] = group.state.rawValue
                for (index, id) in group.namespaces.enumerated() { d.put(id, at: 32 + index * 4) }
            }
        }
        return bytes
    }
}

/// Controller properties over Fabrics: CAP, VS, CC and CSTS, and the enable/shutdown handshake.
/// A value type: `set` returns whether the controller became enabled or shut down.
public struct ControllerRegisters: Sendable, Equatable {
    public private(set) var configuration: UInt32 = 0
    public private(set) var status: UInt32 = 0
    public let queueDepth: Int

    public init(queueDepth: Int = NVMeWireLimits.maxQueueDepth) { self.queueDepth = queueDepth }

    /// CAP: MQES, CQR, TO 15 s, CSS NVM, MPSMIN/MPSMAX 4 KiB.
    public var capabilities: UInt64 {
        UInt64(queueDepth - 1) | 1 << 16 | UInt64(30) << 24 | 1 << 37
    }

    public var isEnabled: Bool { status & 1 != 0 }

    public enum Change: Sendable, Equatable { case none, enabled, disabled, shutDown }

    /// The value of a property, or nil for an unknown offset or size.
    public func get(offset: UInt32, wide: Bool) -> UInt64? {
        switch (offset, wide) {
        case (PropertyOffset.capabilities, true): capabilities
        case (PropertyOffset.capabilities, false): capabilities & 0xFFFF_FFFF
        case (PropertyOffset.version, false): UInt64(ControllerIdentity.version)
        case (PropertyOffset.configuration, false): UInt64(configuration)
        case (PropertyOffset.status, false): UInt64(status)
        case (PropertyOffset.subsystemReset, false): 0
        default: nil
        }
    }

    /// Sets a property; nil for an unknown or read-only property or a bad value.
    public mutating func set(offset: UInt32, value: UInt64, wide: Bool) -> Change? {
        guard offset == PropertyOffset.configuration, !wide, value >> 32 == 0 else { return nil }
        let new = UInt32(value)
        let old = configuration
        configuration = new
        let shutdownNotification = (new >> 14) & 0x3
        if shutdownNotification != 0 && (old >> 14) & 0x3 == 0 {
            status = (status & ~0xC) | 0x8  // SHST: shutdown complete
            return .shutDown
        }
        if new & 1 == 1 && old & 1 == 0 {
            status |= 1
            return .enabled
        }
        if new & 1 == 0 && old & 1 == 1 {
            status &= ~1
            status &= ~0xC
            return .disabled
        }
        return Change.none
    }
}
