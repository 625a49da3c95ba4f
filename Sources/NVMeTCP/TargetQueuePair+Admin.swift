// Fabrics and admin commands of a target queue pair (spdk.md §5.4, §5.5): Connect, properties,
// Identify, Get Log Page, Set/Get Features, Asynchronous Event Request, Keep Alive and Abort.

import BlockCore
import BlockDevices
import NVMeWire
import Synchronization

extension TargetQueuePair {
    // MARK: - Fabrics

    func executeFabrics(_ slot: TargetSlot) {
        let command = slot.request.command
        switch command.fabricsType {
        case FabricsType.connect: connect(slot)
        case FabricsType.propertyGet, FabricsType.propertySet:
            guard isAdmin, let controller else { return respond(slot, .commandSequenceError) }
            let wide = command.cdw10 & 0x7 == 1
            if command.fabricsType == FabricsType.propertyGet {
                guard let value = controller.registers.get(offset: command.cdw11, wide: wide) else {
                    return respond(slot, .invalidField)
                }
                respond(slot, .success, dw0: UInt32(truncatingIfNeeded: value), dw1: UInt32(truncatingIfNeeded: value >> 32))
            } else {
                let value = UInt64(command.cdw12) | UInt64(command.cdw13) << 32
                guard let change = controller.registers.set(offset: command.cdw11, value: value, wide: wide) else {
                    return respond(slot, .invalidField)
                }
                if change == .shutDown {
                    // Shutdown completes at once: every write the bdevs acknowledged is already theirs.
                    for queue in controller.ioQueues.values { queue.close() }
                }
                respond(slot, .success)
            }
        default:
            respond(slot, .invalidOpcode)
        }
    }

    /// The Connect response for a bad field: IATTR (1 = in the data) and IPO (byte offset).
    private func invalid(_ slot: TargetSlot, inData: Bool, offset: UInt32, _ status: NVMeStatus = .connectInvalidParameters) {
        respond(slot, status, dw0: offset | (inData ? 1 << 16 : 0))
    }

    private func connect(_ slot: TargetSlot) {
        let command = slot.request.command
        guard !isConnected else { return respond(slot, .commandSequenceError) }
        guard slot.request.transferLength >= ConnectData.byteCount else { return respond(slot, .dataSGLLengthInvalid) }
        guard command.cdw10 & 0xFFFF == 0 else { return respond(slot, .connectIncompatibleFormat) }
        let data = ConnectData(bytes: UnsafeRawBufferPointer(slot.buffer.bytes))
        let requestedQueueID = UInt16(command.cdw10 >> 16)
        let queueSize = Int(command.cdw11 & 0xFFFF) + 1
        guard let subsystem = target.subsystem(data.subsystemNQN) else {
            return invalid(slot, inData: true, offset: 256)
        }
        guard subsystem.allows(host: data.hostNQN) else {
            return invalid(slot, inData: true, offset: 512, .connectInvalidHost)
        }
        guard subsystem.isDiscovery || subsystem.hasListener(listenAddress) else {
            return invalid(slot, inData: true, offset: 256)
        }
        if requestedQueueID == 0 {
            guard data.controllerID == 0xFFFF else { return invalid(slot, inData: true, offset: 16) }
            guard queueSize >= 2, queueSize <= transport.maxAdminQueueDepth else { return invalid(slot, inData: false, offset: 44) }
            let keepAlive = NVMfController.effectiveKeepAlive(command.cdw12, discovery: subsystem.isDiscovery)
            let granted = max(1, min(transport.maxIOQueuePairsPerController, NVMeWireLimits.maxIOQueues))
            guard
                let controller = subsystem.addController({ id in
                    NVMfController(
                        controllerID: id, subsystem: subsystem, target: target, hostNQN: data.hostNQN, hostID: data.hostID,
                        listenAddress: listenAddress, keepAliveMilliseconds: keepAlive, queueDepth: transport.maxQueueDepth,
                        grantedIOQueues: granted)
                })
            else { return respond(slot, .connectControllerBusy) }
            controller.adminQueue = self
            self.controller = controller
            queueID = 0
            queueDepth = queueSize
            controller.startKeepAliveTimer()
            target.adminQueuePairsCreated.add(1, ordering: .relaxed)
            target.currentAdminQueuePairs.add(1, ordering: .relaxed)
            respond(slot, .success, dw0: UInt32(controller.controllerID))
        } else {
            guard let controller = subsystem.controller(data.controllerID), !controller.isTornDown,
                controller.hostNQN == data.hostNQN
            else { return invalid(slot, inData: true, offset: 16) }
            guard !subsystem.isDiscovery, controller.registers.isEnabled else { return respond(slot, .commandSequenceError) }
            guard Int(requestedQueueID) <= controller.grantedIOQueues, controller.ioQueues[requestedQueueID] == nil else {
                return invalid(slot, inData: false, offset: 42)
            }
            guard queueSize >= 2, queueSize <= transport.maxQueueDepth else { return invalid(slot, inData: false, offset: 44) }
            controller.ioQueues[requestedQueueID] = self
            self.controller = controller
            queueID = requestedQueueID
            queueDepth = queueSize
            target.ioQueuePairsCreated.add(1, ordering: .relaxed)
            target.currentIOQueuePairs.add(1, ordering: .relaxed)
            respond(slot, .success, dw0: UInt32(controller.controllerID))
        }
    }

    // MARK: - Admin

    func executeAdmin(_ slot: TargetSlot, _ controller: NVMfController) {
        let command = slot.request.command
        switch command.opcode {
        case AdminOpcode.identify: identify(slot, controller)
        case AdminOpcode.getLogPage: getLogPage(slot, controller)
        case AdminOpcode.setFeatures: setFeatures(slot, controller)
        case AdminOpcode.getFeatures: getFeatures(slot, controller)
        case AdminOpcode.asyncEventRequest:
            if !controller.holdEventRequest(queue: self, slot: slot) { respond(slot, .asyncEventLimitExceeded) }
        case AdminOpcode.keepAlive:
            controller.keepAliveReceived()
            respond(slot, .success)
        case AdminOpcode.abort:
            respond(slot, .success, dw0: 1)  // not aborted: commands here complete promptly
        default:
            respond(slot, .invalidOpcode)
        }
    }

    /// Answers with `page` bytes (from `offset`) into a transfer of the command's length.
    private func reply(_ slot: TargetSlot, _ page: [UInt8], offset: Int = 0, length: Int? = nil) {
        let count = length ?? slot.request.transferLength
        guard count <= slot.request.transferLength, count > 0 else { return respond(slot, .dataSGLLengthInvalid) }
        guard offset <= page.count else { return respond(slot, .invalidField) }
        let buffer = slot.buffer.bytes
        let copied = min(count, page.count - offset)
        page.withUnsafeBytes { source in
            UnsafeMutableRawBufferPointer(rebasing: buffer[0..<copied]).copyMemory(
                from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + copied)]))
        }
        if copied < count { UnsafeMutableRawBufferPointer(rebasing: buffer[copied..<count]).initializeMemory(as: UInt8.self, repeating: 0) }
        respond(slot, .success, dataBytes: count)
    }

    private func identify(_ slot: TargetSlot, _ controller: NVMfController) {
        let command = slot.request.command
        let subsystem = controller.subsystem
        let zeros = [UInt8](repeating: 0, count: NVMeWireLimits.identifyBytes)
        switch command.cdw10 & 0xFF {
        case 0x01:
            reply(slot, controller.identity.encode())
        case _ where subsystem.isDiscovery:
            respond(slot, .invalidField)
        case 0x00:
            let id = command.namespaceID
            guard id >= 1, id <= subsystem.options.maxNamespaces else { return respond(slot, .invalidNamespace) }
            reply(slot, subsystem.namespace(id)?.identity.encode() ?? zeros)
        case 0x02:
            guard command.namespaceID < 0xFFFF_FFFE else { return respond(slot, .invalidNamespace) }
            reply(slot, activeNamespaceList(subsystem.namespaces.map(\.namespaceID), after: command.namespaceID))
        case 0x03:
            guard let namespace = subsystem.namespace(command.namespaceID) else { return respond(slot, .invalidNamespace) }
            reply(slot, namespace.identity.descriptorList())
        case 0x05, 0x06, 0x1C:
            reply(slot, zeros)  // I/O command set specific structures: the NVM set has nothing extra
        default:
            respond(slot, .invalidField)
        }
    }

    private func getLogPage(_ slot: TargetSlot, _ controller: NVMfController) {
        let command = slot.request.command
        let pageID = UInt8(command.cdw10 & 0xFF)
        let dwords = (Int(command.cdw11 & 0xFFFF) << 16 | Int(command.cdw10 >> 16)) + 1
        let length = dwords * 4
        let offset64 = UInt64(command.cdw12) | UInt64(command.cdw13) << 32
        guard offset64 & 3 == 0, offset64 < UInt64(Int32.max) else { return respond(slot, .invalidField) }
        let offset = Int(offset64)
        guard length <= slot.request.transferLength else { return respond(slot, .dataSGLLengthInvalid) }
        let subsystem = controller.subsystem
        let page: [UInt8]
        switch pageID {
        case LogPageID.discovery where subsystem.isDiscovery:
            page = LogPages.discovery(
                generation: target.discoveryGeneration, entries: target.discoveryEntries(for: controller.hostNQN))
        case _ where subsystem.isDiscovery:
            return respond(slot, .invalidLogPage)
        case LogPageID.error:
            page = [UInt8](repeating: 0, count: 64)
        case LogPageID.health:
            page = LogPages.health(dataUnitsRead: 0, dataUnitsWritten: 0, readCommands: 0, writeCommands: 0)
        case LogPageID.firmwareSlot:
            page = LogPages.firmwareSlot(revision: target.firmwareRevision)
        case LogPageID.changedNamespaces:
            page = LogPages.changedNamespaces(controller.takeChangedNamespaces())
        case LogPageID.commandEffects:
            page = LogPages.commandEffects()
        case LogPageID.asymmetricNamespaceAccess where subsystem.options.anaReporting:
            let state = subsystem.anaState(for: listenAddress)
            page = LogPages.asymmetricNamespaceAccess(
                changeCount: controller.anaLogChangeCount,
                groups: subsystem.namespaces.map { (groupID: $0.anaGroupID, state: state, namespaces: [$0.namespaceID]) })
        default:
            return respond(slot, .invalidLogPage)
        }
        reply(slot, page, offset: offset, length: length)
    }

    private func setFeatures(_ slot: TargetSlot, _ controller: NVMfController) {
        let command = slot.request.command
        let value = command.cdw11
        switch UInt8(command.cdw10 & 0xFF) {
        case FeatureID.numberOfQueues:
            let granted = UInt32(controller.grantedIOQueues - 1)
            respond(slot, .success, dw0: granted | granted << 16)
        case FeatureID.asyncEventConfiguration:
            controller.asyncEventConfiguration = value
            respond(slot, .success)
        case FeatureID.keepAliveTimer:
            controller.keepAliveMilliseconds = NVMfController.effectiveKeepAlive(value, discovery: controller.subsystem.isDiscovery)
            controller.keepAliveReceived()
            respond(slot, .success)
        case FeatureID.volatileWriteCache:
            controller.volatileWriteCacheEnabled = value & 1 != 0
            respond(slot, .success)
        case FeatureID.arbitration, FeatureID.powerManagement, FeatureID.temperatureThreshold, FeatureID.errorRecovery,
            FeatureID.interruptCoalescing, FeatureID.interruptVectorConfiguration, FeatureID.writeAtomicity,
            FeatureID.hostBehaviorSupport:
            respond(slot, .success)
        case FeatureID.hostIdentifier:
            respond(slot, .commandSequenceError)  // set by Connect; cannot change while connected
        default:
            respond(slot, .invalidField)
        }
    }

    private func getFeatures(_ slot: TargetSlot, _ controller: NVMfController) {
        let command = slot.request.command
        switch UInt8(command.cdw10 & 0xFF) {
        case FeatureID.numberOfQueues:
            let granted = UInt32(controller.grantedIOQueues - 1)
            respond(slot, .success, dw0: granted | granted << 16)
        case FeatureID.asyncEventConfiguration:
            respond(slot, .success, dw0: controller.asyncEventConfiguration)
        case FeatureID.keepAliveTimer:
            respond(slot, .success, dw0: controller.keepAliveMilliseconds)
        case FeatureID.volatileWriteCache:
            respond(slot, .success, dw0: controller.volatileWriteCacheEnabled ? 1 : 0)
        case FeatureID.arbitration, FeatureID.powerManagement, FeatureID.errorRecovery, FeatureID.interruptCoalescing,
            FeatureID.interruptVectorConfiguration, FeatureID.writeAtomicity, FeatureID.hostBehaviorSupport:
            respond(slot, .success, dw0: 0)
        case FeatureID.temperatureThreshold:
            respond(slot, .success, dw0: 273 + 70)  // 70 °C, in kelvin
        case FeatureID.hostIdentifier:
            guard command.cdw11 & 1 == 1 else { return respond(slot, .invalidField) }
            reply(slot, controller.hostID, length: 16)
        default:
            respond(slot, .invalidField)
        }
    }
}
