// A namespace of a remote controller as a block device (`<controller>n<nsid>`, product
// "NVMe disk"). Its channel turns block I/O into NVMe commands on one of the controller's I/O
// queues, split at the controller's largest transfer (MDTS).

public import BlockCore
import BlockDevices
public import Foundation
public import NVMeWire
import Synchronization

public final class NVMeNamespaceDevice: BlockDevice, @unchecked Sendable {
    public unowned let controller: NVMeHostController
    public let namespaceID: UInt32
    public let name: String
    public var aliases: [String] { [] }
    public var productName: String { "NVMe disk" }
    public let claims = DeviceClaims()
    public let ioControl = DeviceIOControl()
    private let geometryState: Mutex<(identity: NamespaceIdentity, controller: ControllerIdentity)>

    init(controller: NVMeHostController, namespaceID: UInt32, identity: NamespaceIdentity, controllerIdentity: ControllerIdentity) {
        self.controller = controller
        self.namespaceID = namespaceID
        name = "\(controller.name)n\(namespaceID)"
        geometryState = Mutex((identity, controllerIdentity))
    }

    func update(_ identity: NamespaceIdentity) { geometryState.withLock { $0.identity = identity } }

    public var namespaceIdentity: NamespaceIdentity { geometryState.withLock { $0.identity } }
    public var uuid: UUID {
        let bytes = namespaceIdentity.uuid
        return UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10],
            bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
    public var blockSize: Int { namespaceIdentity.blockSize }
    public var blockCount: UInt64 { namespaceIdentity.blockCount }
    /// Largest data transfer of one command.
    var maxTransferBytes: Int { geometryState.withLock { min($0.controller.maxIOBytes, NVMeWireLimits.maxIOBytes) } }

    public var supportedIOTypes: IOTypes {
        let identity = geometryState.withLock { $0.controller }
        var types: IOTypes = [.read, .write, .flush, .reset]
        if identity.supportsDatasetManagement { types.insert(.unmap) }
        if identity.supportsWriteZeroes { types.insert(.writeZeroes) }
        return types
    }

    public func makeChannel() throws -> any IOChannel { NVMeHostChannel(device: self) }
}

final class NVMeHostChannel: IOChannel {
    let device: NVMeNamespaceDevice
    let reactor: Reactor

    init(device: NVMeNamespaceDevice) {
        self.device = device
        reactor = device.controller.reactor
    }

    nonisolated(nonsending) func read(_ data: IOVector, offsetBlocks: UInt64) async throws {
        try await transfer(data, offsetBlocks: offsetBlocks, opcode: IOOpcode.read, forceUnitAccess: false)
    }

    nonisolated(nonsending) func write(_ data: IOVector, offsetBlocks: UInt64, options: WriteOptions) async throws {
        try await transfer(data, offsetBlocks: offsetBlocks, opcode: IOOpcode.write, forceUnitAccess: options.contains(.forceUnitAccess))
    }

    nonisolated(nonsending) func flush() async throws {
        try await run(SubmissionEntry(opcode: IOOpcode.flush, commandID: 0, namespaceID: device.namespaceID), nil, "flush")
    }

    nonisolated(nonsending) func unmap(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try device.geometry.checkRange(offsetBlocks: offsetBlocks, blockCount: blockCount)
        guard device.supportedIOTypes.contains(.unmap) else { throw BlockError(.notSupported, "\(device.name) does not deallocate") }
        // One Dataset Management range covers at most 2^32 - 1 blocks.
        let buffer = IOBuffer(byteCount: 4096)
        var done: UInt64 = 0
        while done < blockCount {
            var ranges = 0
            while ranges < 256, done < blockCount {
                let count = min(blockCount - done, UInt64(UInt32.max))
                buffer.bytes.storeBytes(of: UInt32(0), toByteOffset: ranges * 16, as: UInt32.self)
                buffer.bytes.storeBytes(of: UInt32(count).littleEndian, toByteOffset: ranges * 16 + 4, as: UInt32.self)
                buffer.bytes.storeBytes(of: (offsetBlocks + done).littleEndian, toByteOffset: ranges * 16 + 8, as: UInt64.self)
                ranges += 1
                done += count
            }
            var command = SubmissionEntry(opcode: IOOpcode.datasetManagement, commandID: 0, namespaceID: device.namespaceID)
            command.cdw10 = UInt32(ranges - 1)
            command.cdw11 = 1 << 2
            try await run(command, HostQueuePair.Transfer(vector: buffer.vector(), offset: 0, byteCount: ranges * 16, isRead: false), "deallocate")
        }
    }

    nonisolated(nonsending) func writeZeroes(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try device.geometry.checkRange(offsetBlocks: offsetBlocks, blockCount: blockCount)
        guard device.supportedIOTypes.contains(.writeZeroes) else { throw BlockError(.notSupported, "\(device.name) does not write zeroes") }
        var done: UInt64 = 0
        while done < blockCount {
            let count = min(blockCount - done, 65_536)
            var command = SubmissionEntry(opcode: IOOpcode.writeZeroes, commandID: 0, namespaceID: device.namespaceID)
            let start = offsetBlocks + done
            command.cdw10 = UInt32(truncatingIfNeeded: start)
            command.cdw11 = UInt32(truncatingIfNeeded: start >> 32)
            command.cdw12 = UInt32(count - 1)
            try await run(command, nil, "write zeroes")
            done += count
        }
    }

    private nonisolated(nonsending) func transfer(_ data: IOVector, offsetBlocks: UInt64, opcode: UInt8, forceUnitAccess: Bool) async throws {
        let total = data.byteCount
        let blockSize = device.blockSize
        _ = try device.geometry.checkIO(offsetBlocks: offsetBlocks, byteCount: total)
        let chunk = max(device.maxTransferBytes / blockSize, 1) * blockSize
        var done = 0
        while done < total {
            let count = min(chunk, total - done)
            let start = offsetBlocks + UInt64(done / blockSize)
            var command = SubmissionEntry(opcode: opcode, commandID: 0, namespaceID: device.namespaceID)
            command.cdw10 = UInt32(truncatingIfNeeded: start)
            command.cdw11 = UInt32(truncatingIfNeeded: start >> 32)
            command.cdw12 = UInt32(count / blockSize - 1) | (forceUnitAccess ? 1 << 30 : 0)
            let isRead = opcode == IOOpcode.read
            try await run(
                command, HostQueuePair.Transfer(vector: data, offset: done, byteCount: count, isRead: isRead),
                isRead ? "read" : "write")
            done += count
        }
    }

    private nonisolated(nonsending) func run(_ command: SubmissionEntry, _ transfer: HostQueuePair.Transfer?, _ what: String) async throws {
        guard reactor.isCurrent else {
            return try await withTaskExecutorPreference(reactor) { try await self.run(command, transfer, what) }
        }
        let queue = try await device.controller.ioQueue()
        let completion = try await queue.submit(command, transfer)
        guard completion.status.isSuccess else { throw Self.error(completion.status, what, device.name) }
    }

    static func error(_ status: NVMeStatus, _ what: String, _ name: String) -> BlockError {
        switch status {
        case .lbaOutOfRange: BlockError(.outOfRange, "\(what) on \(name): LBA out of range")
        case .namespaceWriteProtected: BlockError(.readOnly, "\(what) on \(name): namespace is write-protected")
        case .invalidOpcode: BlockError(.notSupported, "\(what) on \(name): not supported by the controller")
        case .invalidField, .dataSGLLengthInvalid: BlockError(.invalidArgument, "\(what) on \(name): controller rejected a field")
        case .invalidNamespace, .namespaceNotReady: BlockError(.notFound, "\(what) on \(name): namespace not available")
        default: BlockError(.ioError, "\(what) on \(name) failed: \(status)")
        }
    }
}
