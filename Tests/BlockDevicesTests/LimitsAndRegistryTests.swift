import BlockCore
import BlockDevices
import Foundation
import Testing

@Suite struct LimitsTests {
    @Test func blockLimitsHangTogether() {
        #expect(BlockLimits.minBlockSize.nonzeroBitCount == 1)
        #expect(BlockLimits.maxBlockSize % BlockLimits.minBlockSize == 0)
        #expect(BlockLimits.bufferAlignment % BlockLimits.minBlockSize == 0)
        #expect(BlockLimits.maxIOBytes % BlockLimits.maxBlockSize == 0)
        #expect(BlockLimits.maxSegmentsPerIO >= 16)
    }

    @Test func deviceLimitsHangTogether() {
        #expect(DeviceLimits.maxRequestsPerReactor <= DeviceLimits.defaultRingEntries)
        #expect(DeviceLimits.fallbackWorkerThreads >= 1)
        #expect((0...DeviceLimits.maxPollMicroseconds).contains(DeviceLimits.defaultPollMicroseconds))
        #expect(DeviceLimits.zeroChunkBytes % BlockLimits.bufferAlignment == 0)
        #expect(DeviceLimits.slotInitialBufferBytes % BlockLimits.bufferAlignment == 0)
    }

    @Test func aMallocDeviceTheMachineCannotHoldIsRefusedBeforeAllocation() throws {
        let tooMany = SystemMemory.availableBytes() / 4096 + 1
        for (blocks, size) in [(tooMany, 4096), (UInt64(1) << 62, 4096), (UInt64.max, 512)] {
            #expect(throws: BlockError(.noMemory, "")) {
                do { _ = try MallocDevice(name: "huge", blockCount: blocks, blockSize: size) } catch let error as BlockError {
                    throw BlockError(error.code, "")
                }
            }
        }
        #expect(BlockError(.noMemory, "x").errnoValue == 12)
        #expect(SystemMemory.availableBytes() > 0)
        #expect(SystemMemory.canAllocate(1 << 20) && !SystemMemory.canAllocate(UInt64.max))
        // What fits is zero-filled.
        let device = try MallocDevice(name: "small", blockCount: 64, blockSize: 512)
        #expect(device.byteCount == 32768)
    }
}

@Suite struct RegistryAndClaimTests {
    final class Named: BlockDevice, @unchecked Sendable {
        let name: String
        let aliases: [String]
        let uuid = UUID()
        let productName = "test"
        let blockSize = 512
        let blockCount: UInt64 = 8
        let supportedIOTypes: IOTypes = [.read]
        let claims = DeviceClaims()
        let ioControl = DeviceIOControl()
        init(_ name: String, aliases: [String] = []) {
            self.name = name
            self.aliases = aliases
        }
        func makeChannel() throws -> any IOChannel { throw BlockError(.notSupported, "no I/O") }
    }

    @Test func namesAndAliasesAreUniqueAndFindable() throws {
        let registry = BlockDeviceRegistry()
        try registry.register(Named("a", aliases: ["lvs/a"]))
        try registry.register(Named("b"))
        #expect(registry.lookup("a")?.name == "a")
        #expect(registry.lookup("lvs/a")?.name == "a")
        #expect(registry.lookup("c") == nil)
        #expect(throws: BlockError.self) { try registry.register(Named("lvs/a")) }
        #expect(throws: BlockError.self) { try registry.register(Named("c", aliases: ["b"])) }
        #expect(registry.all.map(\.name) == ["a", "b"])
        try registry.unregister(name: "a")
        #expect(registry.lookup("lvs/a") == nil)
        #expect(throws: BlockError.self) { try registry.unregister(name: "a") }
    }

    @Test func aWaiterIsWokenByTheRegistrationOfItsNameOrAlias() async throws {
        let registry = BlockDeviceRegistry()
        async let byName = registry.device(named: "late", waitingUpTo: .seconds(600))
        async let byAlias = registry.device(named: "lvs/later", waitingUpTo: .seconds(600))
        for _ in 0..<10_000 where registry.waiterCount < 2 { try await Task.sleep(for: .milliseconds(1)) }
        try registry.register(Named("late"))
        try registry.register(Named("uuid-1", aliases: ["lvs/later"]))
        #expect(await byName?.name == "late")
        #expect(await byAlias?.name == "uuid-1")
        #expect(registry.waiterCount == 0)
        // Present already: no wait at all.
        #expect(await registry.device(named: "late", waitingUpTo: .zero)?.name == "late")
    }

    @Test func aWaitEndsAtItsDeadlineOrWhenCancelled() async throws {
        let registry = BlockDeviceRegistry()
        #expect(await registry.device(named: "never", waitingUpTo: .milliseconds(20)) == nil)
        let waiting = Task { await registry.device(named: "never", waitingUpTo: .seconds(600)) }
        for _ in 0..<10_000 where registry.waiterCount < 1 { try await Task.sleep(for: .milliseconds(1)) }
        waiting.cancel()
        #expect(await waiting.value == nil)
        #expect(registry.waiterCount == 0)
        // Cancelled before it starts waiting: it does not wait.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await registry.device(named: "never", waitingUpTo: .seconds(600))
        }
        #expect(await early.value == nil)
        #expect(registry.waiterCount == 0)
        // A registration after the waiters are gone wakes nothing.
        try registry.register(Named("never"))
    }

    @Test func exclusiveWriteClaims() throws {
        let device = try MallocDevice(name: "Malloc0", blockCount: 8, blockSize: 512)
        let owner = try BlockDescriptor(device, writable: true)
        try owner.claim(module: "lvol")
        #expect(device.claims.current.claimant == "lvol")
        // Nobody else may open it for writing or claim it; readers may.
        #expect(throws: BlockError.self) { try BlockDescriptor(device, writable: true) }
        let reader = try BlockDescriptor(device, writable: false)
        #expect(throws: BlockError.self) { try reader.claim(module: "raid") }
        owner.close()
        #expect(device.claims.current.claimant == nil)
        // A claim is refused while another writer is open.
        let writer = try BlockDescriptor(device, writable: true)
        let second = try BlockDescriptor(device, writable: true)
        #expect(throws: BlockError.self) { try second.claim(module: "raid") }
        writer.close()
        try second.claim(module: "raid")
        reader.close()
        second.close()
        #expect(device.claims.current.claimant == nil && device.claims.current.writers == 0)
    }

    @Test func errnoMapping() {
        #expect(BlockError(.notFound, "x").errnoValue == 19)
        #expect(BlockError(.alreadyExists, "x").errnoValue == 17)
        #expect(BlockError(.busy, "x").errnoValue == 16)
        #expect(BlockError(.noSpace, "x").errnoValue == 28)
        #expect(BlockError(.ioError, "x", errno: 61).errnoValue == 61)
    }
}
