import BlockCore
import BlockDevices
import Foundation
import NVMeTCP
import NVMeWire
import TestSupport
import Testing

@Suite struct NVMeLoopbackTests {
    let fabric = NVMeFabric.shared

    @Test(arguments: [512, 4096])
    func conformanceOverLoopback(blockSize: Int) async throws {
        let fabric = self.fabric
        let controllers = ControllerKeeper()
        try await BlockDeviceConformance(name: "nvme-tcp") {
            let device = try MallocDevice(name: "Malloc-nvme", blockCount: UInt64(8 * 1024 * 1024 / blockSize), blockSize: blockSize)
            let subsystem = try fabric.export(device)
            let controller = try await fabric.attach(subsystem)
            controllers.keep(controller)
            return controller.namespaces[0]
        }.runAll()
        for controller in controllers.all { await controller.detach() }
    }

    @Test func largeTransfersUseR2TAndSplitAtMDTS() async throws {
        let device = try MallocDevice(name: "Malloc-large", blockCount: 4096, blockSize: 4096)
        let subsystem = try fabric.export(device)
        let controller = try await fabric.attach(subsystem)
        let namespace = controller.namespaces[0]
        #expect(namespace.name == "\(controller.name)n1")
        #expect(namespace.blockCount == 4096)
        let channel = try namespace.makeChannel()
        let size = 1024 * 1024  // eight commands of 128 KiB, each by R2T
        let out = IOBuffer(byteCount: size)
        for index in 0..<size { out.bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
        try await channel.write(out.vector(), offsetBlocks: 100)
        let back = IOBuffer(byteCount: size)
        try await channel.read(back.vector(), offsetBlocks: 100)
        #expect(withExtendedLifetime((out, back)) { memcmp(out.bytes.baseAddress!, back.bytes.baseAddress!, size) } == 0)
        // The data is on the target's device itself.
        let local = IOBuffer(byteCount: size)
        try await device.makeChannel().read(local.vector(), offsetBlocks: 100)
        #expect(withExtendedLifetime((out, local)) { memcmp(out.bytes.baseAddress!, local.bytes.baseAddress!, size) } == 0)
        await controller.detach()
    }

    @Test func digestsNegotiatedAndVerified() async throws {
        let device = try MallocDevice(name: "Malloc-digest", blockCount: 1024, blockSize: 512)
        let subsystem = try fabric.export(device)
        let controller = try await fabric.attach(subsystem) { options in
            options.headerDigest = true
            options.dataDigest = true
        }
        let channel = try controller.namespaces[0].makeChannel()
        for size in [512, 8192, 65536] {
            let out = IOBuffer(byteCount: size)
            for index in 0..<size { out.bytes[index] = UInt8(truncatingIfNeeded: index &+ size) }
            try await channel.write(out.vector(), offsetBlocks: 8)
            let back = IOBuffer(byteCount: size)
            try await channel.read(back.vector(), offsetBlocks: 8)
            #expect(withExtendedLifetime((out, back)) { memcmp(out.bytes.baseAddress!, back.bytes.baseAddress!, size) } == 0)
        }
        await controller.detach()
    }

    @Test func discoveryListsTheSubsystemsAHostMaySee() async throws {
        let open = try fabric.export(try MallocDevice(name: "Malloc-open", blockCount: 64, blockSize: 512))
        let closed = try fabric.export(try MallocDevice(name: "Malloc-closed", blockCount: 64, blockSize: 512), allowAnyHost: false)
        let options = NVMeHostController.Options(
            address: fabric.address.address, serviceID: fabric.address.serviceID, subsystemNQN: NVMfSubsystem.discoveryNQN)
        let discovery = try await NVMeHostController.attach(name: "discovery", options: options, reactor: fabric.hostReactor)
        #expect(discovery.namespaces.isEmpty)
        let entries = try await discovery.discoveryLog()
        let nqns = Set(entries.map(\.subsystemNQN))
        #expect(nqns.contains(open.nqn) && !nqns.contains(closed.nqn))
        let entry = try #require(entries.first { $0.subsystemNQN == open.nqn })
        #expect(entry.address == "127.0.0.1" && entry.serviceID == fabric.address.serviceID && entry.subtype == DiscoveryLogEntry.subtypeNVMe)
        await discovery.detach()
    }

    @Test func hostNotAllowedIsRefusedAtConnect() async throws {
        let device = try MallocDevice(name: "Malloc-acl", blockCount: 64, blockSize: 512)
        let subsystem = try fabric.export(device, allowAnyHost: false)
        try subsystem.addHost("nqn.2023-01.io.hornbill:allowed")
        await #expect(throws: (any Error).self) {
            _ = try await fabric.attach(subsystem) { $0.hostNQN = "nqn.2023-01.io.hornbill:intruder" }
        }
        do {
            _ = try await fabric.attach(subsystem) { $0.hostNQN = "nqn.2023-01.io.hornbill:intruder" }
        } catch {
            #expect("\(error)".contains("host not allowed"), "\(error)")
        }
        let allowed = try await fabric.attach(subsystem) { $0.hostNQN = "nqn.2023-01.io.hornbill:allowed" }
        #expect(allowed.namespaces.count == 1)
        await allowed.detach()
    }

    @Test func aHotRemovedNamespaceAnswersTheCommandsInFlightBeforeItGoes() async throws {
        let device = try GateDevice(name: "Gate-ns", blockCount: 64, blockSize: 512)
        let subsystem = try fabric.export(device)
        let controller = try await fabric.attach(subsystem)
        let namespace = controller.namespaces[0]
        let write = Task {
            let channel = try namespace.makeChannel()
            let buffer = IOBuffer(byteCount: 512)
            buffer.bytes.initializeMemory(as: UInt8.self, repeating: 0x5a)
            try await channel.write(buffer.vector(), offsetBlocks: 3)
        }
        #expect(await device.waitForWaitingIOs(1), "the write is in flight on the namespace")
        let removal = Task { await device.claims.hotRemove() }
        device.openGate()
        await removal.value
        // The removal returned only after the write reached the device and was answered.
        let stored = IOBuffer(byteCount: 512)
        try await device.base.makeChannel().read(stored.vector(), offsetBlocks: 3)
        #expect(stored.bytes.allSatisfy { $0 == 0x5a })
        try await write.value
        #expect(subsystem.namespaces.isEmpty)
        #expect(device.claims.current.claimant == nil && device.claims.current.writers == 0)
        // A command after the removal finds no namespace.
        let channel = try namespace.makeChannel()
        let buffer = IOBuffer(byteCount: 512)
        await #expect(throws: BlockError.self) { try await channel.read(buffer.vector(), offsetBlocks: 0) }
        await controller.detach()
    }

    @Test func removedNamespaceFailsIOAndClaimIsReleased() async throws {
        let device = try MallocDevice(name: "Malloc-claim", blockCount: 64, blockSize: 512)
        let subsystem = try fabric.export(device)
        #expect(device.claims.current.claimant == "nvmf")
        let controller = try await fabric.attach(subsystem)
        let channel = try controller.namespaces[0].makeChannel()
        let buffer = IOBuffer(byteCount: 512)
        try await channel.read(buffer.vector(), offsetBlocks: 0)
        try await subsystem.removeNamespace(1)
        #expect(device.claims.current.claimant == nil)
        await #expect(throws: BlockError.self) { try await channel.read(buffer.vector(), offsetBlocks: 0) }
        await controller.detach()
    }

    @Test func aHotRemovedDeviceTakesItsNamespaceAway() async throws {
        let device = try MallocDevice(name: "Malloc-hotremove", blockCount: 64, blockSize: 512)
        let subsystem = try fabric.export(device)
        let controller = try await fabric.attach(subsystem)
        let channel = try controller.namespaces[0].makeChannel()
        let buffer = IOBuffer(byteCount: 512)
        try await channel.read(buffer.vector(), offsetBlocks: 0)
        await device.claims.hotRemove()
        #expect(subsystem.namespaces.isEmpty)
        #expect(device.claims.current.claimant == nil && device.claims.current.writers == 0)
        await #expect(throws: BlockError.self) { try await channel.read(buffer.vector(), offsetBlocks: 0) }
        await controller.detach()
    }

    @Test func keepAliveExpiryTearsControllerDown() async throws {
        let device = try MallocDevice(name: "Malloc-kato", blockCount: 64, blockSize: 512)
        let subsystem = try fabric.export(device)
        // A raw admin connection that sends Connect with a 1 ms KATO (rounded up to 10 s) and then
        // goes silent: the target must drop it after the keep-alive timeout.
        let client = try await RawNVMeClient.connect(port: UInt16(fabric.address.serviceID)!)
        let started = ContinuousClock.now
        let controllerID = try await client.connectAdmin(subsystemNQN: subsystem.nqn, keepAliveMilliseconds: 1)
        #expect(controllerID >= 1)
        let closed = await client.waitForClose(timeout: .seconds(20))
        #expect(closed)
        #expect(ContinuousClock.now - started >= .seconds(9))
    }
}

final class ControllerKeeper: @unchecked Sendable {
    private var controllers: [NVMeHostController] = []
    private let lock = NSLock()
    func keep(_ controller: NVMeHostController) { lock.withLock { controllers.append(controller) } }
    var all: [NVMeHostController] { lock.withLock { controllers } }
}
