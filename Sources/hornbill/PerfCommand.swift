import ArgumentParser
import BlockCore
import BlockDevices
import Foundation
import LogicalVolumes
import NVMeTCP
import StorageKit

/// `hornbill perf`: drives one block device in-process with a fixed-queue-depth workload, like
/// SPDK's bdevperf, and reports IOPS, bandwidth and latency percentiles.
struct PerfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf",
        abstract: "Measure a block device in-process (like SPDK's bdevperf).",
        discussion: """
            Devices:
              malloc:SIZE_MIB            a RAM disk
              aio:PATH                   a file or block device (O_DIRECT, io_uring)
              lvol:PATH                  a thin lvol filling an lvstore created on PATH (its data is lost);
                                         every cluster is written once before measuring
              nvmf://HOST:PORT/NQN       namespace 1 of an NVMe/TCP subsystem (like spdk_nvme_perf),
                                         over --io-queues connections

            Examples: hornbill perf -d lvol:/tmp/disk.img -w randread -o 4096 -q 32 -t 10
                      hornbill perf -d nvmf://127.0.0.1:4420/nqn.2023-01.io.hornbill:vol -q 32
            """)

    @Option(name: [.customShort("d"), .long], help: "The device to drive (see above).")
    var device: String

    @Option(name: [.customShort("w"), .long], help: "randread, randwrite, read, write or randrw.")
    var workload: Workload = .randread

    @Option(name: [.customShort("M"), .long], help: "Percent of reads in randrw.")
    var rwmixread: Int = 70

    @Option(name: [.customShort("o"), .long], help: "Bytes per I/O.")
    var ioSize: Int = 4096

    @Option(name: [.customShort("q"), .long], help: "I/Os kept in flight.")
    var queueDepth: Int = 32

    @Option(name: [.customShort("t"), .long], help: "Seconds to run.")
    var time: Double = 10

    @Option(help: "Bytes of the device to use from its start (0: all).")
    var span: UInt64 = 0

    @Option(help: "Block size for aio and lvol devices (0: detect).")
    var blockSize: Int = 4096

    @Option(help: "Cluster size of the lvstore created for lvol devices.")
    var clusterSize: Int = 1024 * 1024

    @Option(
        help: ArgumentHelp(
            "What the lvstore created for lvol devices does to its data region first: none, unmap or write_zeroes.",
            discussion: """
                Default none: every cluster is written before measuring, so clearing changes no result \
                and its side effects would land in the measurement (on a file system mounted with \
                discard, unmap punches holes whose discards reach the disk seconds later, while the \
                run measures). unmap is what bdev_lvol_create_lvstore does by default.
                """))
    var clearMethod: String = "none"

    @Option(help: "I/O queues (TCP connections) for nvmf:// devices.")
    var ioQueues = 1

    @Option(help: "Host NQN for nvmf:// devices (default: a random one).")
    var hostNQN: String?

    @Flag(help: "Use blocking system calls on worker threads instead of io_uring.")
    var noIOUring = false

    @Option(
        help: ArgumentHelp(
            "Microseconds the reactor polls for completions before sleeping (default: \(DeviceLimits.maxPollMicroseconds), so it polls for the whole run, as spdk_nvme_perf does).",
            discussion: """
                A sleeping client pays a wake-up for each batch of completions, tens of microseconds \
                on a VM. Where the disk is emulated on the cores the client spins on, polling takes \
                time from the disk instead: try --poll-us 0 there (docs/benchmarks.md).
                """))
    var pollUs: Int?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: "Seed of the offset generator.")
    var seed: UInt64 = 1

    enum Workload: String, ExpressibleByArgument, CaseIterable {
        case randread, randwrite, read, write, randrw
    }

    func validate() throws {
        guard ioSize > 0, ioSize % 512 == 0, ioSize <= BlockLimits.maxIOBytes else {
            throw ValidationError("--io-size must be a positive multiple of 512 up to \(BlockLimits.maxIOBytes)")
        }
        guard (1...1024).contains(queueDepth) else { throw ValidationError("--queue-depth must be 1...1024") }
        guard time > 0 else { throw ValidationError("--time must be positive") }
        guard (0...100).contains(rwmixread) else { throw ValidationError("--rwmixread must be 0...100") }
        if let pollUs { try validatePollMicroseconds(pollUs) }
        guard ClearMethod(spdkName: clearMethod) != nil else {
            throw ValidationError("--clear-method must be none, unmap or write_zeroes, not \(clearMethod)")
        }
    }

    func run() async throws {
        let poll = pollUs ?? DeviceLimits.maxPollMicroseconds
        let reactor = try Reactor(name: "perf", options: .init(useIOUring: !noIOUring, pollMicroseconds: poll))
        defer { reactor.shutdown() }
        let report = try await reactor.run { try await self.measure(reactor: reactor) }
        print(json ? report.json : report.text)
    }

    private func measure(reactor: Reactor) async throws -> PerfReport {
        let target = try await openDevice(reactor: reactor)
        let device = target.device
        guard ioSize % device.blockSize == 0 else {
            throw ValidationError("--io-size \(ioSize) is not a multiple of the device's block size \(device.blockSize)")
        }
        let usable = span == 0 ? device.byteCount : min(span, device.byteCount)
        let slots = usable / UInt64(ioSize)
        guard slots > 0 else { throw ValidationError("the device is smaller than one I/O") }
        if target.prefill { try await prefill(device, bytes: slots * UInt64(ioSize)) }

        let deadline = ContinuousClock.now + .nanoseconds(Int64(time * 1e9))
        let blocksPerIO = UInt64(ioSize / device.blockSize)
        let started = ContinuousClock.now
        let histogram = try await withThrowingTaskGroup(of: LatencyHistogram.self) { group in
            for worker in 0..<queueDepth {
                group.addTask {
                    try await self.worker(
                        index: worker, device: device, slots: slots, blocksPerIO: blocksPerIO, deadline: deadline)
                }
            }
            var total = LatencyHistogram()
            for try await part in group { total.merge(part) }
            return total
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let memory = (target.lvol?.metadataMemoryBytes).map { Double($0) * Double(1 << 30) / Double(device.byteCount) }
        let result = PerfReport(
            device: self.device, productName: device.productName, workload: workload.rawValue, ioSize: ioSize,
            queueDepth: queueDepth, seconds: seconds, histogram: histogram, usesIOUring: reactor.usesIOUring,
            directIO: target.directIO, lvolMetadataBytesPerGiB: memory)
        if let store = target.store { try await store.close() }
        if let controller = target.controller { await controller.detach() }
        return result
    }

    private struct Target {
        var device: any BlockDevice
        var prefill = false
        var directIO: Bool?
        var store: LogicalVolumeStore?
        var lvol: LogicalVolume?
        var controller: NVMeHostController?
    }

    private func openDevice(reactor: Reactor) async throws -> Target {
        if device.hasPrefix("nvmf://") { return try await connect(reactor: reactor) }
        let parts = device.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw ValidationError("device \(device) must be malloc:SIZE_MIB, aio:PATH or lvol:PATH") }
        switch parts[0] {
        case "malloc":
            guard let mib = UInt64(parts[1]), mib > 0 else { throw ValidationError("malloc size \(parts[1]) is not a number of MiB") }
            return Target(device: try MallocDevice(name: "Malloc0", blockCount: mib * 1024 * 1024 / 4096, blockSize: 4096))
        case "aio":
            let aio = try AIODevice(name: "aio0", path: parts[1], blockSize: blockSize == 0 ? nil : blockSize)
            return Target(device: aio, directIO: aio.usesDirectIO)
        case "lvol":
            let aio = try AIODevice(name: "aio0", path: parts[1], blockSize: blockSize == 0 ? nil : blockSize)
            let store = try await LogicalVolumeStore.create(
                on: aio, name: "perf",
                options: .init(clusterSize: clusterSize, clearMethod: ClearMethod(spdkName: clearMethod) ?? .none),
                executor: reactor)
            let bytes = span == 0 ? store.freeClusters * UInt64(clusterSize) : span
            let lvol = try await store.createVolume(name: "perf", sizeBytes: bytes, thinProvisioned: true)
            return Target(device: lvol, prefill: true, directIO: aio.usesDirectIO, store: store, lvol: lvol)
        default:
            throw ValidationError("unknown device kind \(parts[0]); use malloc, aio or lvol")
        }
    }

    /// nvmf://HOST:PORT/NQN: attaches an NVMe/TCP controller and drives its first namespace.
    private func connect(reactor: Reactor) async throws -> Target {
        let rest = device.dropFirst("nvmf://".count)
        guard let slash = rest.firstIndex(of: "/"), let colon = rest[..<slash].lastIndex(of: ":") else {
            throw ValidationError("device \(device) must be nvmf://HOST:PORT/NQN")
        }
        var host = String(rest[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = String(rest[rest.index(after: colon)..<slash])
        let nqn = String(rest[rest.index(after: slash)...])
        guard UInt16(port) != nil, !nqn.isEmpty else { throw ValidationError("device \(device) must be nvmf://HOST:PORT/NQN") }
        guard (1...64).contains(ioQueues) else { throw ValidationError("--io-queues must be 1...64") }
        var options = NVMeHostController.Options(address: host, serviceID: port, subsystemNQN: nqn, hostNQN: hostNQN)
        options.ioQueues = ioQueues
        let controller = try await NVMeHostController.attach(name: "nvme0", options: options, reactor: reactor)
        guard let namespace = controller.namespaces.first else {
            await controller.detach()
            throw ValidationError("\(nqn) at \(host):\(port) has no namespace")
        }
        return Target(device: namespace, controller: controller)
    }

    /// Writes every cluster once so the measurement sees allocated clusters only.
    private func prefill(_ device: any BlockDevice, bytes: UInt64) async throws {
        let chunk = 1024 * 1024
        let buffer = IOBuffer(byteCount: chunk)
        let channel = try device.makeChannel()
        var offset: UInt64 = 0
        while offset < bytes {
            let count = Int(min(UInt64(chunk), bytes - offset))
            try await channel.write(buffer.vector(byteCount: count), offsetBlocks: offset / UInt64(device.blockSize))
            offset += UInt64(count)
        }
        try await channel.flush()
    }

    private nonisolated(nonsending) func worker(
        index: Int, device: any BlockDevice, slots: UInt64, blocksPerIO: UInt64, deadline: ContinuousClock.Instant
    ) async throws -> LatencyHistogram {
        var random = SeededRandom(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
        let channel = try device.makeChannel()
        let buffer = IOBuffer(byteCount: ioSize)
        random.fill(buffer.bytes)
        let vector = buffer.vector()
        var histogram = LatencyHistogram()
        var sequential = UInt64(index) * (slots / UInt64(queueDepth))
        // Options are read once: each read of an option goes through the parser's generic storage.
        let workload = self.workload
        let readPercent = rwmixread
        let clock = ContinuousClock()
        while clock.now < deadline {
            let slot: UInt64
            switch workload {
            case .read, .write:
                slot = sequential % slots
                sequential += 1
            default:
                slot = random.next() % slots
            }
            let isRead: Bool
            switch workload {
            case .read, .randread: isRead = true
            case .write, .randwrite: isRead = false
            case .randrw: isRead = Int(random.next() % 100) < readPercent
            }
            let start = clock.now
            if isRead {
                try await channel.read(vector, offsetBlocks: slot * blocksPerIO)
            } else {
                try await channel.write(vector, offsetBlocks: slot * blocksPerIO)
            }
            let elapsed = clock.now - start
            histogram.record(
                nanoseconds: UInt64(elapsed.components.seconds) * 1_000_000_000
                    + UInt64(elapsed.components.attoseconds / 1_000_000_000))
        }
        return histogram
    }
}

struct PerfReport {
    var device: String
    var productName: String
    var workload: String
    var ioSize: Int
    var queueDepth: Int
    var seconds: Double
    var histogram: LatencyHistogram
    var usesIOUring: Bool
    var directIO: Bool?
    var lvolMetadataBytesPerGiB: Double?

    var iops: Double { Double(histogram.count) / seconds }
    var mibPerSecond: Double { iops * Double(ioSize) / 1_048_576 }
    func microseconds(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1000 }

    var text: String {
        var lines = [
            "device \(device) (\(productName)), \(workload), \(ioSize)-byte I/O, queue depth \(queueDepth), "
                + String(format: "%.1f s", seconds) + (usesIOUring ? ", io_uring" : ", worker threads")
                + (directIO.map { $0 ? ", O_DIRECT" : ", buffered" } ?? ""),
            String(format: "IOPS %.0f   MiB/s %.1f", iops, mibPerSecond),
            String(
                format: "latency us: mean %.1f   p50 %.1f   p99 %.1f   p99.9 %.1f", histogram.meanNanoseconds / 1000,
                microseconds(histogram.percentile(0.5)), microseconds(histogram.percentile(0.99)),
                microseconds(histogram.percentile(0.999))),
        ]
        if let lvolMetadataBytesPerGiB {
            lines.append(String(format: "lvol metadata memory: %.0f bytes per GiB of volume", lvolMetadataBytesPerGiB))
        }
        return lines.joined(separator: "\n")
    }

    var json: String {
        var object: [String: Any] = [
            "device": device, "product_name": productName, "workload": workload, "io_size": ioSize,
            "queue_depth": queueDepth, "seconds": seconds, "ios": histogram.count, "iops": iops,
            "mib_per_second": mibPerSecond, "io_uring": usesIOUring,
            "latency_us": [
                "mean": histogram.meanNanoseconds / 1000, "p50": microseconds(histogram.percentile(0.5)),
                "p99": microseconds(histogram.percentile(0.99)), "p99_9": microseconds(histogram.percentile(0.999)),
                "max": microseconds(histogram.maxNanoseconds),
            ],
        ]
        if let directIO { object["direct_io"] = directIO }
        if let lvolMetadataBytesPerGiB { object["lvol_metadata_bytes_per_gib"] = lvolMetadataBytesPerGiB }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
