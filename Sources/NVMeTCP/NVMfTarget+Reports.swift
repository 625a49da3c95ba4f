// What nvmf_subsystem_get_controllers and nvmf_subsystem_get_qpairs report: snapshots taken on the
// reactor, where controllers and queue pairs live.

import BlockDevices
public import Foundation

extension NVMfTarget {
    public struct ControllerReport: Sendable {
        public var controllerID: UInt16
        public var hostNQN: String
        public var hostID: UUID
        public var ioQueuePairs: Int
    }

    public struct QueuePairReport: Sendable {
        public var controllerID: UInt16
        public var queueID: UInt16
        public var listenAddress: ListenAddress
        public var peerAddress: ListenAddress
        public var hostNQN: String
    }

    public func controllers(of subsystem: NVMfSubsystem) async -> [ControllerReport] {
        let controllers = subsystem.controllers
        return await reactor.run {
            controllers.map { controller in
                let id = controller.hostID
                return ControllerReport(
                    controllerID: controller.controllerID, hostNQN: controller.hostNQN,
                    hostID: UUID(uuid: (id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11], id[12], id[13], id[14], id[15])),
                    ioQueuePairs: controller.ioQueues.count)
            }
        }
    }

    public func queuePairs(of subsystem: NVMfSubsystem) async -> [QueuePairReport] {
        let pairs = queuePairs
        return await reactor.run {
            pairs.compactMap { pair in
                guard let controller = pair.controller, controller.subsystem === subsystem, !controller.isTornDown else { return nil }
                return QueuePairReport(
                    controllerID: controller.controllerID, queueID: pair.queueID, listenAddress: pair.listenAddress,
                    peerAddress: pair.peerAddress, hostNQN: controller.hostNQN)
            }.sorted { ($0.controllerID, $0.queueID) < ($1.controllerID, $1.queueID) }
        }
    }
}
