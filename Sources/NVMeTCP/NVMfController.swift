// A controller of the target: made by an admin-queue Connect, joined by I/O-queue Connects that
// name its ID, torn down when its admin queue disconnects or its keep-alive timer expires.
// Its mutable state is confined to the target's reactor, like its queue pairs.

import BlockDevices
import Foundation
import NVMeWire

final class NVMfController: @unchecked Sendable {
    let controllerID: UInt16
    let subsystem: NVMfSubsystem
    let target: NVMfTarget
    let hostNQN: String
    let hostID: [UInt8]
    let listenAddress: ListenAddress

    var registers: ControllerRegisters
    /// KATO in milliseconds; 0 disables the timer.
    var keepAliveMilliseconds: UInt32
    var lastKeepAlive = ContinuousClock.now
    var asyncEventConfiguration: UInt32 = 0
    var volatileWriteCacheEnabled = true
    /// I/O queues granted by Set Features (Number of Queues).
    let grantedIOQueues: Int
    var adminQueue: TargetQueuePair?
    var ioQueues: [UInt16: TargetQueuePair] = [:]
    private(set) var isTornDown = false

    /// Asynchronous events waiting for an AER, and AERs waiting for an event (their queue and slot).
    private var pendingEvents: [UInt32] = []
    private var eventRequests: [(queue: TargetQueuePair, slot: TargetSlot)] = []
    private var changedNamespaceIDs: Set<UInt32> = []
    private var anaChangeCount: UInt64 = 0

    init(
        controllerID: UInt16, subsystem: NVMfSubsystem, target: NVMfTarget, hostNQN: String, hostID: [UInt8],
        listenAddress: ListenAddress, keepAliveMilliseconds: UInt32, queueDepth: Int, grantedIOQueues: Int
    ) {
        self.controllerID = controllerID
        self.subsystem = subsystem
        self.target = target
        self.hostNQN = hostNQN
        self.hostID = hostID
        self.listenAddress = listenAddress
        self.keepAliveMilliseconds = keepAliveMilliseconds
        self.grantedIOQueues = grantedIOQueues
        registers = ControllerRegisters(queueDepth: queueDepth)
    }

    var identity: ControllerIdentity {
        let transport = target.transport ?? TransportOptions()
        return ControllerIdentity(
            serialNumber: subsystem.options.serialNumber, modelNumber: subsystem.options.modelNumber,
            firmwareRevision: target.firmwareRevision, controllerID: controllerID, subsystemNQN: subsystem.nqn,
            maxNamespaces: subsystem.options.maxNamespaces, isDiscovery: subsystem.isDiscovery,
            queueDepth: transport.maxQueueDepth, maxIOBytes: transport.maxIOSize,
            inCapsuleDataBytes: transport.inCapsuleDataSize, volatileWriteCache: true,
            anaReporting: subsystem.options.anaReporting)
    }

    /// Rounds a requested KATO the way SPDK's fork does: up to a multiple of 10 s; 0 stays 0
    /// (120 s for a discovery controller).
    static func effectiveKeepAlive(_ requested: UInt32, discovery: Bool) -> UInt32 {
        if requested == 0 { return discovery ? NVMeTCPLimits.discoveryKeepAliveMilliseconds : 0 }
        let unit = NVMeTCPLimits.keepAliveGranularityMilliseconds
        let (rounded, overflow) = requested.addingReportingOverflow(unit - 1)
        return overflow ? UInt32.max / unit * unit : rounded / unit * unit
    }

    /// Watches the keep-alive timer on the reactor; tears the controller down when it expires.
    func startKeepAliveTimer() {
        Task(executorPreference: target.reactor) { [weak self] in
            while let controller = self, !controller.isTornDown {
                let timeout = controller.keepAliveMilliseconds
                let reactor = controller.target.reactor
                guard timeout > 0 else {
                    await reactor.sleep(for: .seconds(1))
                    continue
                }
                let deadline = controller.lastKeepAlive + .milliseconds(Int64(timeout))
                let now = ContinuousClock.now
                if now >= deadline {
                    controller.tearDown(reason: "keep-alive timeout (\(timeout) ms) expired")
                    return
                }
                await reactor.sleep(for: min(deadline - now, .seconds(1)))
            }
        }
    }

    func keepAliveReceived() { lastKeepAlive = .now }

    /// Disconnects every queue pair and forgets the controller.
    func tearDown(reason: String) {
        guard !isTornDown else { return }
        isTornDown = true
        target.report("controller \(controllerID) of \(subsystem.nqn) (host \(hostNQN)) torn down: \(reason)")
        subsystem.removeController(self)
        for queue in ioQueues.values { queue.close() }
        ioQueues.removeAll()
        adminQueue?.close()
        adminQueue = nil
        for request in eventRequests { request.queue.abandon(request.slot) }
        eventRequests.removeAll()
    }

    // MARK: - Asynchronous events

    /// Holds an Asynchronous Event Request; false when the limit is reached.
    func holdEventRequest(queue: TargetQueuePair, slot: TargetSlot) -> Bool {
        guard eventRequests.count < NVMeTCPLimits.maxAsyncEventRequests else { return false }
        eventRequests.append((queue, slot))
        deliverEvents()
        return true
    }

    private func post(_ event: UInt32) {
        guard !pendingEvents.contains(event) else { return }
        pendingEvents.append(event)
        deliverEvents()
    }

    private func deliverEvents() {
        while !pendingEvents.isEmpty, !eventRequests.isEmpty {
            let event = pendingEvents.removeFirst()
            let request = eventRequests.removeFirst()
            request.queue.completeEventRequest(request.slot, dw0: event)
        }
    }

    /// Notice: namespace attribute changed (log page 0x04), if the host enabled it.
    func namespacesChanged(_ ids: [UInt32]) {
        Task(executorPreference: target.reactor) {
            self.changedNamespaceIDs.formUnion(ids)
            if self.asyncEventConfiguration & (1 << 8) != 0 {
                self.post(0x02 | 0x00 << 8 | UInt32(LogPageID.changedNamespaces) << 16)
            }
        }
    }

    /// Notice: ANA change (log page 0x0C).
    func anaChanged() {
        Task(executorPreference: target.reactor) {
            self.anaChangeCount += 1
            if self.asyncEventConfiguration & (1 << 11) != 0 {
                self.post(0x02 | 0x03 << 8 | UInt32(LogPageID.asymmetricNamespaceAccess) << 16)
            }
        }
    }

    /// Notice: discovery log page change (log page 0x70), on discovery controllers.
    func discoveryLogChanged() {
        if asyncEventConfiguration & (1 << 31) != 0 {
            post(0x02 | 0xF0 << 8 | UInt32(LogPageID.discovery) << 16)
        }
    }

    /// Reads and clears the changed namespace list.
    func takeChangedNamespaces() -> [UInt32] {
        defer { changedNamespaceIDs.removeAll() }
        return Array(changedNamespaceIDs)
    }

    var anaLogChangeCount: UInt64 { anaChangeCount }
}
