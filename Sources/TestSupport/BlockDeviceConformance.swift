// One conformance suite for every BlockDevice (design/STYLE.md #10): malloc, aio, lvols (thin,
// thick, clone), the crashable disk, and later RAID1 and the NVMe/TCP host. Each check opens a
// fresh device from the factory, uses aligned buffers (devices may use O_DIRECT), and throws a
// `ConformanceFailure` naming the check, the device and what differed.
//
// The suite runs on whatever executor its caller prefers (inside `reactor.run { }` or not).

public import BlockCore

public struct ConformanceFailure: Error, CustomStringConvertible {
    public var check: String
    public var device: String
    public var message: String
    public var description: String { "\(check) on \(device): \(message)" }
}

public struct BlockDeviceConformance: Sendable {
    public struct Options: Sendable {
        /// The device reads as zeroes before anything is written.
        public var initiallyZero: Bool
        /// Most blocks one check touches at a given spot (large devices are sampled).
        public var maxBlocksPerCheck: Int
        /// Concurrent writers in the concurrency check.
        public var concurrency: Int
        public var seed: UInt64

        public init(initiallyZero: Bool = true, maxBlocksPerCheck: Int = 64, concurrency: Int = 16, seed: UInt64 = 1) {
            self.initiallyZero = initiallyZero
            self.maxBlocksPerCheck = maxBlocksPerCheck
            self.concurrency = concurrency
            self.seed = seed
        }
    }

    public let name: String
    public let options: Options
    let makeDevice: @Sendable () async throws -> any BlockDevice

    public init(name: String, options: Options = .init(), makeDevice: @escaping @Sendable () async throws -> any BlockDevice) {
        self.name = name
        self.options = options
        self.makeDevice = makeDevice
    }

    /// Every check, in order.
    public func runAll() async throws {
        try await checkGeometry()
        try await checkInitialContent()
        try await checkBoundaries()
        try await checkOutOfRange()
        try await checkMisaligned()
        try await checkVectoredIO()
        try await checkOverwrite()
        try await checkUnmapReadsZeroes()
        try await checkWriteZeroesReadsZeroes()
        try await checkFlushAndFUA()
        try await checkConcurrentDisjointWriters()
    }

    // MARK: - Checks

    public func checkGeometry() async throws {
        let device = try await makeDevice()
        try expect(device.blockSize >= 512 && device.blockSize % 512 == 0, "geometry", device, "block size \(device.blockSize)")
        try expect(device.blockCount > 0, "geometry", device, "no blocks")
        try expect(device.supportedIOTypes.contains(.read), "geometry", device, "cannot read")
        try expect(!device.name.isEmpty, "geometry", device, "empty name")
    }

    public func checkInitialContent() async throws {
        guard options.initiallyZero else { return }
        let device = try await makeDevice()
        let channel = try device.makeChannel()
        for start in samples(device) {
            let count = blocks(device, from: start)
            let buffer = IOBuffer(byteCount: count * device.blockSize)
            buffer.bytes.initializeMemory(as: UInt8.self, repeating: 0xEE)
            try await channel.read(buffer.vector(), offsetBlocks: start)
            if let offset = buffer.bytes.firstIndex(where: { $0 != 0 }) {
                throw failure("initial content", device, "block \(start + UInt64(offset / device.blockSize)) is not zero")
            }
        }
    }

    public func checkBoundaries() async throws {
        let device = try await makeDevice()
        let channel = try device.makeChannel()
        let last = device.blockCount - 1
        for (start, count) in [(UInt64(0), 1), (last, 1), (device.blockCount - UInt64(min(8, Int(device.blockCount))), min(8, Int(device.blockCount)))] {
            try await writeAndVerify(channel, device, start: start, count: count, generation: 1, check: "boundaries")
        }
    }

    public func checkOutOfRange() async throws {
        let device = try await makeDevice()
        let channel = try device.makeChannel()
        let size = device.blockSize
        let last = device.blockCount - 1
        try await writeAndVerify(channel, device, start: last, count: 1, generation: 2, check: "out of range")
        let two = IOBuffer(byteCount: 2 * size)
        let cases: [(String, UInt64)] = [("straddling the end", last), ("past the end", device.blockCount), ("at UInt64.max", .max)]
        for (what, start) in cases {
            try await expectError(.outOfRange, "out of range", device, "write \(what)") {
                try await channel.write(two.vector(), offsetBlocks: start)
            }
            try await expectError(.outOfRange, "out of range", device, "read \(what)") {
                try await channel.read(two.vector(), offsetBlocks: start)
            }
        }
        try await expectError(.outOfRange, "out of range", device, "write-zeroes past the end") {
            try await channel.writeZeroes(offsetBlocks: last, blockCount: 2)
        }
        // The refused straddling write left the last block alone.
        try await verify(channel, device, start: last, count: 1, generation: 2, check: "out of range")
    }

    public func checkMisaligned() async throws {
        let device = try await makeDevice()
        let channel = try device.makeChannel()
        let buffer = IOBuffer(byteCount: device.blockSize * 2)
        try await expectError(.invalidArgument, "misaligned", device, "zero-length write") {
            try await channel.write(.single(UnsafeMutableRawBufferPointer(rebasing: buffer.bytes[0..<0])), offsetBlocks: 0)
        }
        try await expectError(.invalidArgument, "misaligned", device, "write of a block and a half") {
            try await channel.write(buffer.vector(byteCount: device.blockSize + device.blockSize / 2), offsetBlocks: 0)
        }
        try await expectError(.invalidArgument, "misaligned", device, "read of half a block") {
            try await channel.read(buffer.vector(byteCount: device.blockSize / 2), offsetBlocks: 0)
        }
    }

    public func checkVectoredIO() async throws {
        let device = try await makeDevice()
        let channel = try device.makeChannel()
        let size = device.blockSize
        let count = min(4, Int(device.blockCount))
        let total = count * size
        let start = device.blockCount > 100 ? UInt64(17) : 0
        // Uneven segments, each a multiple of 512 bytes, adding up to whole blocks.
        let source = IOBuffer(byteCount: total)
        DataPattern(seed: options.seed).fill(source.bytes, startBlock: start, blockSize: size, generation: 3)
        let cuts = segmentCuts(total: total)
        try await withSegments(of: source, cuts: cuts) { vector in
            try await channel.write(vector, offsetBlocks: start)
        }
        try await verify(channel, device, start: start, count: count, generation: 3, check: "vectored write")
        let target = IOBuffer(byteCount: total)
        try await withSegments(of: target, cuts: cuts) { vector in
            try await channel.read(vector, offsetBlocks: start)
        }
        if let offset = DataPattern(seed: options.seed).firstMismatch(UnsafeRawBufferPointer(target.bytes), startBlock: start, blockSize: size, generation: 3) {
            throw failure("vectored read", device, "byte \(offset) differs")
        }
    }

    public func checkOverwrite() async throws {
        let device = try await makeDevice()
        let channel = try device.makeChannel()
        for start in samples(device) {
            let count = blocks(device, from: start)
            try await writeAndVerify(channel, device, start: start, count: count, generation: 4, check: "overwrite")
            try await writeAndVerify(channel, device, start: start, count: count, generation: 5, check: "overwrite")
        }
    }

    public func checkUnmapReadsZeroes() async throws {
        let device = try await makeDevice()
        guard device.supportedIOTypes.contains(.unmap) else { return }
        try await checkZeroing(device, check: "unmap") { channel, start, count in
            try await channel.unmap(offsetBlocks: start, blockCount: count)
        }
    }

    public func checkWriteZeroesReadsZeroes() async throws {
        let device = try await makeDevice()
        guard device.supportedIOTypes.contains(.writeZeroes) else { return }
        try await checkZeroing(device, check: "write-zeroes") { channel, start, count in
            try await channel.writeZeroes(offsetBlocks: start, blockCount: count)
        }
    }

    public func checkFlushAndFUA() async throws {
        let device = try await makeDevice()
        let channel = try device.makeChannel()
        let count = min(2, Int(device.blockCount))
        let buffer = IOBuffer(byteCount: count * device.blockSize)
        DataPattern(seed: options.seed).fill(buffer.bytes, startBlock: 0, blockSize: device.blockSize, generation: 6)
        try await channel.write(buffer.vector(), offsetBlocks: 0, options: .forceUnitAccess)
        try await channel.flush()
        try await verify(channel, device, start: 0, count: count, generation: 6, check: "flush and FUA")
    }

    public func checkConcurrentDisjointWriters() async throws {
        let device = try await makeDevice()
        let writers = min(options.concurrency, Int(device.blockCount))
        let span = max(1, min(Int(device.blockCount) / writers, 8))
        let seed = options.seed
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    let channel = try device.makeChannel()
                    let start = UInt64(writer * span)
                    for round in 0..<3 as Range<UInt64> {
                        let buffer = IOBuffer(byteCount: span * device.blockSize)
                        DataPattern(seed: seed).fill(buffer.bytes, startBlock: start, blockSize: device.blockSize, generation: 10 + round)
                        try await channel.write(buffer.vector(), offsetBlocks: start)
                        let check = IOBuffer(byteCount: span * device.blockSize)
                        try await channel.read(check.vector(), offsetBlocks: start)
                        if let offset = DataPattern(seed: seed).firstMismatch(
                            UnsafeRawBufferPointer(check.bytes), startBlock: start, blockSize: device.blockSize, generation: 10 + round)
                        {
                            throw ConformanceFailure(
                                check: "concurrent writers", device: device.name,
                                message: "writer \(writer) round \(round): byte \(offset) from block \(start) differs")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let channel = try device.makeChannel()
        for writer in 0..<writers {
            try await verify(channel, device, start: UInt64(writer * span), count: span, generation: 12, check: "concurrent writers")
        }
    }

    // MARK: - Helpers

    private func checkZeroing(
        _ device: any BlockDevice, check: String, _ zero: (any IOChannel, UInt64, UInt64) async throws -> Void
    ) async throws {
        let channel = try device.makeChannel()
        for start in samples(device) {
            let count = blocks(device, from: start)
            try await writeAndVerify(channel, device, start: start, count: count, generation: 7, check: check)
            // Zero the middle, keep a block on each side when there is room.
            let inner = count > 2 ? (start + 1, UInt64(count - 2)) : (start, UInt64(count))
            try await zero(channel, inner.0, inner.1)
            let buffer = IOBuffer(byteCount: Int(inner.1) * device.blockSize)
            buffer.bytes.initializeMemory(as: UInt8.self, repeating: 0xEE)
            try await channel.read(buffer.vector(), offsetBlocks: inner.0)
            if let offset = buffer.bytes.firstIndex(where: { $0 != 0 }) {
                throw failure(check, device, "block \(inner.0 + UInt64(offset / device.blockSize)) is not zero afterwards")
            }
            if count > 2 {
                try await verify(channel, device, start: start, count: 1, generation: 7, check: check)
                try await verify(channel, device, start: start + UInt64(count - 1), count: 1, generation: 7, check: check)
            }
        }
    }

    /// Start blocks to exercise: the beginning, the middle and the end of the device.
    private func samples(_ device: any BlockDevice) -> [UInt64] {
        let count = UInt64(options.maxBlocksPerCheck)
        guard device.blockCount > 3 * count else { return [0] }
        return [0, device.blockCount / 2 - 3, device.blockCount - count]
    }

    private func blocks(_ device: any BlockDevice, from start: UInt64) -> Int {
        Int(min(UInt64(options.maxBlocksPerCheck), device.blockCount - start, UInt64(BlockLimits.maxIOBytes / device.blockSize)))
    }

    private func writeAndVerify(
        _ channel: any IOChannel, _ device: any BlockDevice, start: UInt64, count: Int, generation: UInt64, check: String
    ) async throws {
        let buffer = IOBuffer(byteCount: count * device.blockSize)
        DataPattern(seed: options.seed).fill(buffer.bytes, startBlock: start, blockSize: device.blockSize, generation: generation)
        try await channel.write(buffer.vector(), offsetBlocks: start)
        try await verify(channel, device, start: start, count: count, generation: generation, check: check)
    }

    private func verify(
        _ channel: any IOChannel, _ device: any BlockDevice, start: UInt64, count: Int, generation: UInt64, check: String
    ) async throws {
        let buffer = IOBuffer(byteCount: count * device.blockSize)
        try await channel.read(buffer.vector(), offsetBlocks: start)
        if let offset = DataPattern(seed: options.seed).firstMismatch(
            UnsafeRawBufferPointer(buffer.bytes), startBlock: start, blockSize: device.blockSize, generation: generation)
        {
            throw failure(check, device, "block \(start + UInt64(offset / device.blockSize)) byte \(offset % device.blockSize) differs from generation \(generation)")
        }
    }

    private func segmentCuts(total: Int) -> [Int] {
        var cuts: [Int] = []
        var offset = 0
        let pattern = [512, 3584, 1024, 2048, 512, 7680]
        var index = 0
        while offset < total {
            let next = min(pattern[index % pattern.count], total - offset)
            cuts.append(next)
            offset += next
            index += 1
        }
        return cuts
    }

    private func withSegments(
        of buffer: IOBuffer, cuts: [Int], _ body: (IOVector) async throws -> Void
    ) async throws {
        let table = UnsafeMutableBufferPointer<UnsafeMutableRawBufferPointer>.allocate(capacity: cuts.count)
        defer { table.deallocate() }
        var offset = 0
        for (index, length) in cuts.enumerated() {
            table[index] = UnsafeMutableRawBufferPointer(rebasing: buffer.bytes[offset..<(offset + length)])
            offset += length
        }
        try await body(.segments(UnsafeBufferPointer(table)))
    }

    private func expect(_ condition: Bool, _ check: String, _ device: any BlockDevice, _ message: String) throws {
        if !condition { throw failure(check, device, message) }
    }

    private func expectError(
        _ code: BlockError.Code, _ check: String, _ device: any BlockDevice, _ what: String, _ body: () async throws -> Void
    ) async throws {
        do {
            try await body()
        } catch let error as BlockError {
            if error.code != code { throw failure(check, device, "\(what): expected \(code), got \(error.code) (\(error))") }
            return
        }
        throw failure(check, device, "\(what) did not fail")
    }

    private func failure(_ check: String, _ device: any BlockDevice, _ message: String) -> ConformanceFailure {
        ConformanceFailure(check: "\(name): \(check)", device: device.name, message: message)
    }
}
