// The V1 engine's controller: one volume over replica processes. Writes go to every RW replica at
// once and are acknowledged when they all answered; a replica that fails or does not answer in
// time becomes ERR and leaves the set, and the volume serves while one RW replica remains. Reads
// go to the RW replicas in turn; a failed read is retried on the next one. Every write carries the
// next revision, which each replica keeps in its revision counter.
//
// Start: the replicas report size, revision and error flag; a replica of another size, with an
// error, or whose counter is below the highest is ERR (it missed writes), so the controller never
// serves a mix of diverged replicas. State is confined to the reactor.

public import BlockCore
public import BlockDevices
public import Foundation
import Synchronization

public final class V1Controller: BlockDevice, @unchecked Sendable {
    public enum Mode: String, Sendable { case readWrite = "RW", writeOnly = "WO", error = "ERR" }

    public struct ReplicaStatus: Sendable {
        public var address: String
        public var mode: Mode
        public var revision: Int64
        public var reason: String?
    }

    final class Replica {
        let address: String
        var link: ReplicaLink?
        var mode: Mode
        var revision: Int64 = 0
        var reason: String?

        init(address: String, link: ReplicaLink?, mode: Mode, reason: String?) {
            self.address = address
            self.link = link
            self.mode = mode
            self.reason = reason
        }
    }

    public let name: String
    public let uuid = UUID()
    public var aliases: [String] { [] }
    public var productName: String { "Longhorn V1 volume" }
    public let blockSize = 4096
    public let blockCount: UInt64
    public var supportedIOTypes: IOTypes { [.read, .write, .flush, .unmap, .writeZeroes] }
    public let claims = DeviceClaims()
    public let ioControl = DeviceIOControl()
    public let reactor: Reactor
    private var replicas: [Replica] = []
    /// The RW replicas, kept with the modes (not filtered per I/O): what writes and reads go to.
    private var readWrite: [Replica] = []
    private var revision: Int64 = 0
    private var nextRead = 0
    /// Fan-out tallies no request uses now: a write takes one and gives it back, so the steady
    /// state allocates none.
    private var spareTallies: [FanOutTally] = []
    private let statusSnapshot = Mutex<[ReplicaStatus]>([])
    /// The revision every RW replica has acknowledged (the status shows it for them), published
    /// by each write without taking the status lock.
    private let acknowledgedRevision = Atomic<Int64>(0)

    private init(name: String, size: Int64, reactor: Reactor) {
        self.name = name
        blockCount = UInt64(size) / 4096
        self.reactor = reactor
    }

    /// Connects to the replicas and settles which of them are consistent.
    public static func start(volume: String, size: Int64, replicas addresses: [String], reactor: Reactor, timeout: Duration = .seconds(8)) async throws -> V1Controller {
        guard size > 0, size % 4096 == 0 else { throw ReplicaError("size \(size) must be a positive multiple of 4096") }
        guard !addresses.isEmpty else { throw ReplicaError("a volume needs at least one replica") }
        let controller = V1Controller(name: volume, size: size, reactor: reactor)
        try await reactor.run { try await controller.settle(addresses, size: size, timeout: timeout) }
        return controller
    }

    private func settle(_ addresses: [String], size: Int64, timeout: Duration) async throws {
        for address in addresses {
            var connected: ReplicaLink?
            do {
                let link = try await ReplicaLink.connect(address, reactor: reactor, timeout: timeout)
                connected = link
                let buffer = IOBuffer(byteCount: ReplicaInfo.maxBytes)
                let response = try await link.call(
                    ReplicaRequest(kind: .info, id: 0), into: (buffer.bytes.baseAddress!, ReplicaInfo.maxBytes))
                // The link took at most the buffer's bytes; a failed status carries no info.
                guard response.status == 0, Int(response.length) <= ReplicaInfo.maxBytes else {
                    throw ReplicaError("\(address) answered info with status \(response.status) and \(response.length) bytes")
                }
                let info: ReplicaInfo
                do {
                    info = try ReplicaInfo(json: Array(buffer.bytes[0..<Int(response.length)]))
                } catch {
                    throw ReplicaError("\(address) sent malformed info: \(error)")
                }
                let replica = Replica(address: address, link: link, mode: .readWrite, reason: nil)
                replica.revision = info.revision
                if info.size != size {
                    replica.mode = .error
                    replica.reason = "size \(info.size), volume \(size)"
                } else if !info.error.isEmpty {
                    replica.mode = .error
                    replica.reason = "replica error: \(info.error)"
                }
                replicas.append(replica)
            } catch {
                connected?.close()  // a replica that answered wrongly is not kept connected
                replicas.append(Replica(address: address, link: nil, mode: .error, reason: "\(error)"))
            }
        }
        let highest = replicas.filter { $0.mode == .readWrite }.map(\.revision).max()
        guard let highest else {
            throw ReplicaError("no usable replica: " + replicas.map { "\($0.address): \($0.reason ?? "")" }.joined(separator: "; "))
        }
        for replica in replicas where replica.mode == .readWrite && replica.revision < highest {
            replica.mode = .error
            replica.reason = "revision \(replica.revision) behind \(highest): it missed writes"
        }
        revision = highest
        acknowledgedRevision.store(highest, ordering: .relaxed)
        for replica in replicas {
            if replica.mode == .error { replica.link?.close() }
            replica.link?.onFailure = { [weak self, weak replica] reason in
                guard let self, let replica else { return }
                self.markError(replica, reason)
            }
        }
        publish()
    }

    private func markError(_ replica: Replica, _ reason: String) {
        guard replica.mode != .error else { return }
        replica.mode = .error
        replica.reason = reason
        replica.link?.close()
        publish()
    }

    /// Publishes the modes (on a change of mode, not per I/O) and refreshes the RW list.
    private func publish() {
        readWrite = replicas.filter { $0.mode == .readWrite }
        let statuses = replicas.map { ReplicaStatus(address: $0.address, mode: $0.mode, revision: $0.revision, reason: $0.reason) }
        statusSnapshot.withLock { $0 = statuses }
    }

    /// The replicas' modes, for the status report. An RW replica has acknowledged every write
    /// completed so far; an ERR one shows the revision it had when it left.
    public var status: [ReplicaStatus] {
        let acknowledged = acknowledgedRevision.load(ordering: .relaxed)
        return statusSnapshot.withLock { $0 }.map { status in
            var status = status
            if status.mode == .readWrite { status.revision = acknowledged }
            return status
        }
    }

    public func makeChannel() throws -> any IOChannel { V1ControllerChannel(controller: self) }

    /// Takes the replica at `address` ("tcp://host:port" or "host:port") out of the volume: its
    /// link is closed and it no longer shows in the status. Writes and reads in flight on it end
    /// as a failed leg does; the others carry them. Removing a replica the volume does not have
    /// changes nothing (false). The last RW replica is refused while any replica remains: the
    /// volume would have nothing left to serve from.
    @discardableResult
    public func removeReplica(address: String) async throws -> Bool {
        let wanted = Self.bareAddress(address)
        return try await reactor.run {
            guard let index = replicas.firstIndex(where: { Self.bareAddress($0.address) == wanted }) else {
                return false
            }
            let replica = replicas[index]
            if replica.mode == .readWrite && readWrite.count == 1 {
                throw ReplicaError(
                    "replica \(replica.address) is the last RW replica of volume \(name); it cannot be removed")
            }
            replicas.remove(at: index)
            replica.link?.onFailure = nil
            replica.link?.close()
            if replica.mode != .error {
                replica.mode = .error
                replica.reason = "removed"
            }
            publish()
            return true
        }
    }

    /// "tcp://host:port" as "host:port".
    static func bareAddress(_ address: String) -> String {
        address.hasPrefix("tcp://") ? String(address.dropFirst("tcp://".count)) : address
    }

    /// Closes every replica link.
    public func stop() async {
        await reactor.run {
            for replica in replicas { replica.link?.onFailure = nil; replica.link?.close() }
        }
    }

    // MARK: - I/O (on the reactor)

    private func offline() -> BlockError {
        BlockError(.ioError, "volume \(name) has no RW replica left: " + replicas.map { "\($0.address) \($0.reason ?? "")" }.joined(separator: "; "))
    }

    /// Sends `request` to every RW replica at once; succeeds when at least one did, after marking
    /// the others ERR. One continuation per request, however many replicas: each link's answer
    /// counts down, the last one resumes the caller.
    nonisolated(nonsending) func fanOut(_ request: ReplicaRequest, payload: IOVector?) async throws {
        await waitForRoomOnReplicas()
        try await sendToEveryRWReplica(request, payload: payload)
    }

    /// `fanOut` once the links have room: every send goes out in this reactor round, and the last
    /// answer resumes the caller.
    private nonisolated(nonsending) func sendToEveryRWReplica(_ request: ReplicaRequest, payload: IOVector?) async throws {
        let targets = readWrite
        guard !targets.isEmpty else { throw offline() }
        let tally = spareTallies.popLast() ?? FanOutTally()
        defer { spareTallies.append(tally) }
        await withUnsafeContinuation { continuation in
            tally.start(count: targets.count, continuation: continuation)
            for index in targets.indices {
                guard let link = targets[index].link else {
                    tally.record(index, "not connected")
                    continue
                }
                link.send(request, payload: payload, to: .fanOut(tally, index: index))
            }
        }
        var succeeded = 0
        for index in targets.indices {
            if let failure = tally.failures[index] { markError(targets[index], failure) } else { succeeded += 1 }
        }
        guard succeeded > 0 else { throw offline() }
    }

    /// Returns once every RW replica's link has room: a replica whose queue is full holds new
    /// requests back (backpressure) rather than letting the link's queue grow.
    private nonisolated(nonsending) func waitForRoomOnReplicas() async {
        for replica in replicas where replica.mode == .readWrite { await replica.link?.waitForRoom() }
    }

    nonisolated(nonsending) func write(_ data: IOVector, offset: UInt64, forceUnitAccess: Bool) async throws {
        // Before the revision is taken, so writes reach the replicas in revision order.
        await waitForRoomOnReplicas()
        revision += 1
        let request = ReplicaRequest(
            kind: .write, flags: forceUnitAccess ? ReplicaProtocol.flagForceUnitAccess : 0, id: 0, offset: offset,
            length: UInt32(data.byteCount), revision: UInt64(revision))
        let written = revision
        // Nothing suspended since the wait above, so the links still have room.
        try await sendToEveryRWReplica(request, payload: data)
        // Writes complete out of order: the replicas' revision is the highest acknowledged.
        for replica in readWrite where replica.revision < written { replica.revision = written }
        if acknowledgedRevision.load(ordering: .relaxed) < written { acknowledgedRevision.store(written, ordering: .relaxed) }
    }

    nonisolated(nonsending) func read(into destination: UnsafeMutableRawPointer, offset: UInt64, length: Int) async throws {
        while true {
            let targets = readWrite
            guard !targets.isEmpty else { throw offline() }
            nextRead = (nextRead + 1) % targets.count
            let replica = targets[nextRead]
            do {
                guard let link = replica.link else { throw BlockError(.ioError, "not connected") }
                await link.waitForRoom()
                let response = try await link.call(
                    ReplicaRequest(kind: .read, id: 0, offset: offset, length: UInt32(length)), into: (destination, length))
                guard response.status == 0 else { throw BlockError(.ioError, "status \(response.status)") }
                return
            } catch {
                markError(replica, "read failed: \(error)")
            }
        }
    }
}

final class V1ControllerChannel: IOChannel {
    let controller: V1Controller

    init(controller: V1Controller) { self.controller = controller }

    private nonisolated(nonsending) func onReactor<T>(_ body: nonisolated(nonsending) () async throws -> T) async throws -> T {
        if controller.reactor.isCurrent { return try await body() }
        return try await withTaskExecutorPreference(controller.reactor) { try await body() }
    }

    nonisolated(nonsending) func read(_ data: IOVector, offsetBlocks: UInt64) async throws {
        let bytes = try controller.geometry.checkIO(offsetBlocks: offsetBlocks, byteCount: data.byteCount)
        _ = bytes
        let offset = offsetBlocks * 4096
        try await onReactor {
            if case .single(let buffer) = data {
                try await controller.read(into: buffer.baseAddress!, offset: offset, length: buffer.count)
            } else {
                let bounce = IOBuffer(byteCount: data.byteCount)
                try await controller.read(into: bounce.bytes.baseAddress!, offset: offset, length: data.byteCount)
                data.copyIn(at: 0, count: data.byteCount, from: bounce.bytes.baseAddress!)
            }
        }
    }

    nonisolated(nonsending) func write(_ data: IOVector, offsetBlocks: UInt64, options: WriteOptions) async throws {
        _ = try controller.geometry.checkIO(offsetBlocks: offsetBlocks, byteCount: data.byteCount)
        try await onReactor {
            try await controller.write(data, offset: offsetBlocks * 4096, forceUnitAccess: options.contains(.forceUnitAccess))
        }
    }

    nonisolated(nonsending) func flush() async throws {
        try await onReactor { try await controller.fanOut(ReplicaRequest(kind: .flush, id: 0), payload: nil) }
    }

    nonisolated(nonsending) func unmap(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try controller.geometry.checkRange(offsetBlocks: offsetBlocks, blockCount: blockCount)
        var done: UInt64 = 0
        while done < blockCount {
            let count = min(blockCount - done, UInt64(UInt32.max / 4096))
            let request = ReplicaRequest(kind: .unmap, id: 0, offset: (offsetBlocks + done) * 4096, length: UInt32(count * 4096))
            try await onReactor { try await controller.fanOut(request, payload: nil) }
            done += count
        }
    }

    /// Unmapped ranges of a replica's sparse head file read back as zeroes.
    nonisolated(nonsending) func writeZeroes(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try await unmap(offsetBlocks: offsetBlocks, blockCount: blockCount)
    }
}
