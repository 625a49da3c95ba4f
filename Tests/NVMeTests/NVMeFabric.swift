import BlockCore
import BlockDevices
import Foundation
import Glibc
import NVMeTCP
import NVMeWire
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
        address = ListenAddress(address: "127.0.0.1", serviceID: String(freePort()))
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

/// A TCP port nothing listens on right now.
func freePort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return UInt16(bigEndian: address.sin_port)
}
