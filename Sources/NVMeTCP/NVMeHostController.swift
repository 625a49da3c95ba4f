// The NVMe/TCP host (SPDK's bdev_nvme over TCP, spdk.md §2.6): connects an admin queue and I/O
// queues to a remote controller, keeps it alive, and exposes each namespace as a block device
// `<name>n<nsid>`.
//
// Failure model: when any queue fails (the connection drops, a keep-alive goes unanswered), the
// controller resets: every queue is closed, and it reconnects every `reconnectDelay`. I/O issued
// meanwhile waits; once `fastIOFailTimeout` has passed since the failure it fails at once instead;
// once `controllerLossTimeout` has passed the controller gives up and `onLoss` runs (its owner
// removes the bdevs). A timeout of nil means never (SPDK's -1); zero loss timeout means give up at
// once. All state is confined to the reactor.

import BlockCore
public import BlockDevices
public import Foundation
public import NVMeWire

public final class NVMeHostController: @unchecked Sendable {
    public struct Options: Sendable {
        public var address: String
        public var serviceID: String
        public var subsystemNQN: String
        public var hostNQN: String
        public var hostID: UUID
        public var ioQueues: Int
        public var queueSize: Int
        public var keepAliveMilliseconds: UInt32
        public var headerDigest: Bool
        public var dataDigest: Bool
        public var connectTimeout: Duration
        public var reconnectDelay: Duration
        public var fastIOFailTimeout: Duration?
        public var controllerLossTimeout: Duration?

        public init(address: String, serviceID: String, subsystemNQN: String, hostNQN: String? = nil) {
            self.address = address
            self.serviceID = serviceID
            self.subsystemNQN = subsystemNQN
            let id = UUID()
            self.hostNQN = hostNQN ?? "nqn.2014-08.org.nvmexpress:uuid:\(id.uuidString.lowercased())"
            hostID = id
            ioQueues = 1
            queueSize = 128
            keepAliveMilliseconds = 10_000
            headerDigest = false
            dataDigest = false
            connectTimeout = .seconds(10)
            reconnectDelay = .zero
            fastIOFailTimeout = nil
            controllerLossTimeout = .zero
        }
    }

    public enum State: String, Sendable {
        case enabled
        case resetting
        case reconnectIsDelayed = "reconnect_is_delayed"
        case deleting
        case failed
    }

    public let name: String
    public let options: Options
    public let reactor: Reactor
    public private(set) var state = State.resetting
    public private(set) var controllerID: UInt16 = 0
    public private(set) var identity: ControllerIdentity?
    public private(set) var namespaces: [NVMeNamespaceDevice] = []
    /// Runs once when the controller is given up after a loss (not on detach).
    public var onLoss: (@Sendable (NVMeHostController) -> Void)?

    private var admin: HostQueuePair?
    private var ioQueues: [HostQueuePair] = []
    private var nextQueue = 0
    private var failedAt: ContinuousClock.Instant?
    private var failFast = false
    private var waiters: [UnsafeContinuation<Void, any Error>] = []
    private var generation = 0
    /// Why the controller last lost its connection.
    public private(set) var lastFailure: String?

    private init(name: String, options: Options, reactor: Reactor) {
        self.name = name
        self.options = options
        self.reactor = reactor
    }

    /// Connects to the controller and discovers its namespaces.
    public static func attach(name: String, options: Options, reactor: Reactor) async throws -> NVMeHostController {
        let controller = NVMeHostController(name: name, options: options, reactor: reactor)
        // Connect and start the keep-alive in one go on the reactor: the timer must not wait for
        // the caller's task to be scheduled again.
        try await reactor.run {
            try await controller.connect()
            controller.startKeepAlive()
        }
        return controller
    }

    /// Disconnects; the namespaces' I/O fails from now on.
    public func detach() async {
        await reactor.run {
            state = .deleting
            generation += 1
            closeQueues()
            failWaiters(BlockError(.notFound, "NVMe controller \(name) was detached"))
        }
    }

    /// Disconnects and reconnects (bdev_nvme_reset_controller).
    public func reset() async throws {
        try await reactor.run {
            guard state == .enabled else { throw BlockError(.busy, "controller \(name) is \(state.rawValue)") }
            generation += 1
            closeQueues()
            state = .resetting
            try await connect()
            startKeepAlive()
        }
    }

    // MARK: - Connecting

    private var digests: DigestOptions {
        var digests: DigestOptions = []
        if options.headerDigest { digests.insert(.header) }
        if options.dataDigest { digests.insert(.data) }
        return digests
    }

    private var port: UInt16 {
        get throws {
            guard let port = UInt16(options.serviceID) else {
                throw BlockError(.invalidArgument, "trsvcid \(options.serviceID) is not a port number")
            }
            return port
        }
    }

    private func connect() async throws {
        let port = try self.port
        let hostID = withUnsafeBytes(of: options.hostID.uuid) { Array($0) }
        let admin = try await HostQueuePair.open(
            reactor: reactor, host: options.address, port: port, queueID: 0, queueSize: 32, digests: digests,
            timeout: options.connectTimeout)
        do {
            let connectData = ConnectData(hostID: hostID, controllerID: 0xFFFF, subsystemNQN: options.subsystemNQN, hostNQN: options.hostNQN)
            let controllerID = try await admin.fabricsConnect(connectData, keepAliveMilliseconds: options.keepAliveMilliseconds)
            try await enable(admin)
            let identityBytes = try await admin.read(identifyCommand(cns: 1), byteCount: 4096, what: "identify controller")
            let identity = identityBytes.withUnsafeBytes { ControllerIdentity(bytes: $0) }
            var ids: [UInt32] = []
            var devices: [(UInt32, NamespaceIdentity)] = []
            if !identity.isDiscovery {
                var queues = SubmissionEntry(opcode: AdminOpcode.setFeatures, commandID: 0)
                queues.cdw10 = UInt32(FeatureID.numberOfQueues)
                let requested = UInt32(options.ioQueues - 1)
                queues.cdw11 = requested | requested << 16
                let granted = try await admin.execute(queues, what: "set number of queues")
                let grantedQueues = Int(min(granted.dw0 & 0xFFFF, granted.dw0 >> 16)) + 1
                guard grantedQueues >= options.ioQueues else {
                    throw BlockError(.invalidArgument, "controller grants \(grantedQueues) I/O queues, \(options.ioQueues) requested")
                }
                let list = try await admin.read(identifyCommand(cns: 2), byteCount: 4096, what: "identify active namespaces")
                ids = (0..<1024).map { UInt32(list[$0 * 4]) | UInt32(list[$0 * 4 + 1]) << 8 | UInt32(list[$0 * 4 + 2]) << 16 | UInt32(list[$0 * 4 + 3]) << 24 }
                    .prefix { $0 != 0 }.map { $0 }
                for id in ids {
                    var command = identifyCommand(cns: 0)
                    command.namespaceID = id
                    let bytes = try await admin.read(command, byteCount: 4096, what: "identify namespace \(id)")
                    var namespace = bytes.withUnsafeBytes { NamespaceIdentity(bytes: $0) }
                    command.cdw10 = 3
                    let descriptors = try await admin.read(command, byteCount: 4096, what: "namespace \(id) descriptors")
                    if let uuid = descriptors.withUnsafeBytes({ NamespaceIdentity.uuid(inDescriptorList: $0) }) { namespace.uuid = uuid }
                    guard namespace.blockSize >= BlockLimits.minBlockSize, namespace.blockSize <= BlockLimits.maxBlockSize else {
                        throw BlockError(.notSupported, "namespace \(id) has an unsupported block size \(namespace.blockSize)")
                    }
                    // The size in bytes must be a file offset: byte counts and offsets are computed from it.
                    let (namespaceBytes, overflow) = namespace.blockCount.multipliedReportingOverflow(by: UInt64(namespace.blockSize))
                    guard !overflow, namespaceBytes <= UInt64(Int64.max) else {
                        throw BlockError(.notSupported, "namespace \(id) reports \(namespace.blockCount) blocks, too many to address")
                    }
                    devices.append((id, namespace))
                }
            }
            // MAXCMD 0 means not reported; a queue needs two entries (one always stays empty).
            guard identity.queueDepth == 0 || identity.queueDepth >= 2 else {
                throw BlockError(.notSupported, "controller reports MAXCMD \(identity.queueDepth)")
            }
            let ioQueueSize = identity.queueDepth == 0 ? options.queueSize : min(options.queueSize, identity.queueDepth)
            var ioQueues: [HostQueuePair] = []
            do {
                for index in 0..<(identity.isDiscovery ? 0 : options.ioQueues) {
                    let queue = try await HostQueuePair.open(
                        reactor: reactor, host: options.address, port: port, queueID: UInt16(index + 1),
                        queueSize: ioQueueSize, digests: digests, timeout: options.connectTimeout)
                    ioQueues.append(queue)
                    queue.inCapsuleLimit = identity.inCapsuleDataBytes
                    let data = ConnectData(hostID: hostID, controllerID: controllerID, subsystemNQN: options.subsystemNQN, hostNQN: options.hostNQN)
                    _ = try await queue.fabricsConnect(data, keepAliveMilliseconds: 0)
                }
            } catch {
                for queue in ioQueues { queue.close() }
                throw error
            }
            self.admin = admin
            self.ioQueues = ioQueues
            self.controllerID = controllerID
            self.identity = identity
            mergeNamespaces(devices, identity: identity)
            let generation = self.generation
            for queue in [admin] + ioQueues {
                queue.onFailure = { [weak self] error in self?.queueFailed(generation: generation, error) }
            }
            state = .enabled
            failedAt = nil
            failFast = false
            let ready = waiters
            waiters.removeAll()
            for waiter in ready { waiter.resume() }
        } catch {
            admin.close()
            throw error
        }
    }

    private func identifyCommand(cns: UInt32) -> SubmissionEntry {
        var command = SubmissionEntry(opcode: AdminOpcode.identify, commandID: 0)
        command.cdw10 = cns
        return command
    }

    /// CC.EN = 1 with 64-byte SQEs and 16-byte CQEs, then waits for CSTS.RDY.
    private func enable(_ admin: HostQueuePair) async throws {
        let capabilities = try await admin.execute(
            .propertyGet(commandID: 0, offset: PropertyOffset.capabilities, wide: true), what: "read CAP")
        let timeout = Duration.milliseconds(Int64((capabilities.dw0 >> 24) & 0xFF) * 500)
        let configuration: UInt64 = 1 | 6 << 16 | 4 << 20
        _ = try await admin.execute(
            .propertySet(commandID: 0, offset: PropertyOffset.configuration, value: configuration, wide: false), what: "set CC.EN")
        let deadline = ContinuousClock.now + max(timeout, .seconds(1))
        while true {
            let status = try await admin.execute(.propertyGet(commandID: 0, offset: PropertyOffset.status, wide: false), what: "read CSTS")
            if status.dw0 & 1 == 1 { return }
            if status.dw0 & 2 != 0 { throw BlockError(.ioError, "controller reports a fatal status (CSTS.CFS)") }
            guard ContinuousClock.now < deadline else { throw BlockError(.ioError, "controller not ready within \(timeout)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    private func mergeNamespaces(_ found: [(UInt32, NamespaceIdentity)], identity: ControllerIdentity) {
        for (id, namespace) in found {
            if let device = namespaces.first(where: { $0.namespaceID == id }) {
                device.update(namespace)
            } else {
                namespaces.append(NVMeNamespaceDevice(controller: self, namespaceID: id, identity: namespace, controllerIdentity: identity))
            }
        }
    }

    private func closeQueues() {
        let queues = ([admin] + ioQueues).compactMap { $0 }
        admin = nil
        ioQueues = []
        for queue in queues {
            queue.onFailure = nil
            queue.close()
        }
    }

    private func failWaiters(_ error: BlockError) {
        let failed = waiters
        waiters.removeAll()
        for waiter in failed { waiter.resume(throwing: error) }
    }

    // MARK: - Keep alive and recovery

    private func startKeepAlive() {
        let generation = self.generation
        let interval = Duration.milliseconds(Int64(max(options.keepAliveMilliseconds / 2, 100)))
        Task(executorPreference: reactor) { [weak self] in
            while let controller = self, controller.generation == generation, controller.state == .enabled {
                guard controller.options.keepAliveMilliseconds > 0 else { return }
                await controller.reactor.sleep(for: interval)
                guard let admin = controller.admin, controller.generation == generation else { return }
                // A queue that has commands outstanding and heard nothing for a whole KATO is dead.
                let silent = ContinuousClock.now - admin.lastHeard
                if admin.outstanding > 0, silent > .milliseconds(Int64(controller.options.keepAliveMilliseconds)) {
                    admin.fail(BlockError(.ioError, "keep-alive to \(controller.name) unanswered for \(silent)"))
                    return
                }
                if admin.outstanding == 0 {
                    Task(executorPreference: controller.reactor) {
                        _ = try? await admin.submit(SubmissionEntry(opcode: AdminOpcode.keepAlive, commandID: 0))
                    }
                }
            }
        }
    }

    private func queueFailed(generation: Int, _ error: BlockError) {
        guard generation == self.generation, state == .enabled else { return }
        lastFailure = error.message
        self.generation += 1
        closeQueues()
        state = .resetting
        failedAt = .now
        Task(executorPreference: reactor) { await self.recover() }
    }

    private func recover() async {
        let started = failedAt ?? .now
        let generation = self.generation
        while self.generation == generation, state != .deleting {
            let elapsed = ContinuousClock.now - started
            if let fastFail = options.fastIOFailTimeout, elapsed >= fastFail, !failFast {
                failFast = true
                failWaiters(BlockError(.ioError, "controller \(name) unreachable for \(elapsed) (fast I/O fail timeout)"))
            }
            if let loss = options.controllerLossTimeout, elapsed >= loss {
                state = .failed
                failWaiters(BlockError(.notFound, "controller \(name) lost"))
                onLoss?(self)
                return
            }
            state = .reconnectIsDelayed
            await reactor.sleep(for: max(options.reconnectDelay, .milliseconds(100)))
            guard self.generation == generation, state != .deleting else { return }
            state = .resetting
            do {
                try await connect()
                startKeepAlive()
                return
            } catch {
                continue
            }
        }
    }

    // MARK: - I/O queues

    /// An I/O queue to submit on: waits while the controller reconnects, unless I/O fails fast.
    nonisolated(nonsending) func ioQueue() async throws -> HostQueuePair {
        while true {
            switch state {
            case .enabled where !ioQueues.isEmpty:
                nextQueue = (nextQueue + 1) % ioQueues.count
                return ioQueues[nextQueue]
            case .deleting, .failed:
                throw BlockError(.notFound, "NVMe controller \(name) is \(state.rawValue)" + (lastFailure.map { " (\($0))" } ?? ""))
            default:
                if failFast { throw BlockError(.ioError, "controller \(name) is reconnecting (fast I/O fail)") }
                try await withUnsafeThrowingContinuation { waiters.append($0) }
            }
        }
    }

    /// The discovery log of a discovery controller (what `nvme discover` prints): every listener
    /// of every subsystem this host may connect to.
    public func discoveryLog() async throws -> [DiscoveryLogEntry] {
        try await reactor.run {
            guard let admin, identity?.isDiscovery == true else {
                throw BlockError(.invalidArgument, "\(name) is not connected to a discovery controller")
            }
            func page(bytes: Int) async throws -> [UInt8] {
                var command = SubmissionEntry(opcode: AdminOpcode.getLogPage, commandID: 0)
                let dwords = UInt32(bytes / 4 - 1)
                command.cdw10 = UInt32(LogPageID.discovery) | (dwords & 0xFFFF) << 16
                command.cdw11 = dwords >> 16
                return try await admin.read(command, byteCount: bytes, what: "discovery log")
            }
            let entrySize = NVMeWireLimits.discoveryEntryBytes
            let header = try await page(bytes: entrySize)
            let records = header.withUnsafeBytes { Int(min($0.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian, 127)) }
            let log = try await page(bytes: entrySize * (records + 1))
            guard let parsed = log.withUnsafeBytes({ LogPages.parseDiscovery($0) }) else {
                throw BlockError(.ioError, "malformed discovery log")
            }
            return parsed.entries
        }
    }

    /// For bdev_nvme_get_controllers: where it is connected.
    public var traddr: String { options.address }
}
