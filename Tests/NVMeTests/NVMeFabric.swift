import BlockCore
import BlockDevices
import Foundation
import Glibc
import NVMeTCP
import NVMeWire
import TestSupport
import Synchronization

/// A target and a host in one process, on separate reactors, talking over loopback TCP.
final class NVMeFabric: @unchecked Sendable {
    static let shared = NVMeFabric()

    let targetReactor: Reactor
    let hostReactor: Reactor
    let target: NVMfTarget
    let address: ListenAddress
    private let counter = Counter()

    private init() {
        do {
            targetReactor = try Reactor(name: "nvmf-target")
            hostReactor = try Reactor(name: "nvme-host")
        } catch { fatalError("\(error)") }
        target = NVMfTarget(reactor: targetReactor)
        try! target.createTransport(TransportOptions())
        target.events.withLock { $0 = { message in FileHandle.standardError.write(Data("nvmf: \(message)\n".utf8)) } }
        address = ListenAddress(address: "127.0.0.1", serviceID: String(freeTCPPort()))
        // A subsystem without namespaces keeps the listener open for tests that connect by hand.
        let anchor = try! target.createSubsystem(nqn: "nqn.2023-01.io.hornbill:fabric", options: .init())
        try! target.addListener(anchor, address)
    }

    /// A new subsystem exporting `device` as namespace 1 on the shared listener.
    func export(_ device: any BlockDevice, allowAnyHost: Bool = true) throws -> NVMfSubsystem {
        let nqn = "nqn.2023-01.io.hornbill:test-\(counter.next())"
        var options = NVMfSubsystem.Options()
        options.allowAnyHost = allowAnyHost
        let subsystem = try target.createSubsystem(nqn: nqn, options: options)
        _ = try subsystem.addNamespace(device: device, namespaceID: nil, uuid: nil, nguid: nil, anaGroupID: nil)
        try target.addListener(subsystem, address)
        return subsystem
    }

    func hostOptions(_ subsystem: NVMfSubsystem, hostNQN: String? = nil) -> NVMeHostController.Options {
        NVMeHostController.Options(address: address.address, serviceID: address.serviceID, subsystemNQN: subsystem.nqn, hostNQN: hostNQN)
    }

    func attach(_ subsystem: NVMfSubsystem, configure: (inout NVMeHostController.Options) -> Void = { _ in }) async throws -> NVMeHostController {
        var options = hostOptions(subsystem)
        configure(&options)
        return try await NVMeHostController.attach(name: "nvme\(counter.next())", options: options, reactor: hostReactor)
    }
}

final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int { lock.withLock { value += 1; return value } }
}
