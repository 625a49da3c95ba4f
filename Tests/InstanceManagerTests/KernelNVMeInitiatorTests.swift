// The host initiator's sysfs reading and device nodes, over a sysfs tree laid out as the kernel
// lays it out (this machine's kernel has no nvme_tcp, so no real namespace can appear here).

import Foundation
import Glibc
import InstanceManager
import Testing

@Suite struct KernelNVMeInitiatorTests {
    private let nqn = "nqn.2023-01.io.longhorn.spdk:vol"

    /// A sysfs tree with one controller (nvme3) of `subsystemNQN` and its namespace nvme3n1 (259:7),
    /// as without native multipath; `multipath` puts the namespace under a subsystem instead.
    private func sysfs(subsystemNQN: String, multipath: Bool = false) throws -> ScratchDirectory {
        let root = try ScratchDirectory()
        let parent = multipath ? "\(root.path)/class/nvme-subsystem/nvme-subsys3" : "\(root.path)/class/nvme/nvme3"
        for directory in [parent, "\(parent)/nvme3n1", "\(parent)/nvme3c3n1", "\(root.path)/class/block/nvme3n1",
            "\(root.path)/class/block/nvme3c3n1", "\(root.path)/class/nvme/nvme1"]
        {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try "\(subsystemNQN)\n".write(toFile: "\(parent)/subsysnqn", atomically: true, encoding: .utf8)
        try "nqn.2014-08.org.nvmexpress:other\n".write(
            toFile: "\(root.path)/class/nvme/nvme1/subsysnqn", atomically: true, encoding: .utf8)
        try "259:7\n".write(toFile: "\(root.path)/class/block/nvme3n1/dev", atomically: true, encoding: .utf8)
        try "259:8\n".write(toFile: "\(root.path)/class/block/nvme3c3n1/dev", atomically: true, encoding: .utf8)
        return root
    }

    @Test(arguments: [false, true]) func theNamespaceIsFoundByItsSubsystemNQN(multipath: Bool) throws {
        let root = try sysfs(subsystemNQN: nqn, multipath: multipath)
        let initiator = KernelNVMeInitiator(sysfsRoot: root.path)
        #expect(initiator.namespaceDevice(subsystemNQN: nqn) == .init(name: "nvme3n1", major: 259, minor: 7))
        #expect(initiator.namespaceDevice(subsystemNQN: "nqn.2023-01.io.longhorn.spdk:other") == nil)
    }

    @Test func namespaceNamesAreTold() {
        for name in ["nvme0n1", "nvme12n3"] { #expect(KernelNVMeInitiator.isNamespaceName(name)) }
        for name in ["nvme0", "nvme0n1p1", "nvme0c0n1", "nvmen1", "nvme0n", "sda"] {
            #expect(!KernelNVMeInitiator.isNamespaceName(name), "\(name)")
        }
    }

    @Test func anAlreadyConnectedSubsystemGetsItsDeviceNodeAndDisconnectRemovesIt() async throws {
        let root = try sysfs(subsystemNQN: nqn)
        let devices = try ScratchDirectory()
        // No nvme-cli: a connect that needed it would fail, so the connection found was reused.
        let initiator = KernelNVMeInitiator(
            sysfsRoot: root.path, deviceDirectory: "\(devices.path)/longhorn", nvmeCLICandidates: ["/nonexistent/nvme"])
        let path = try await initiator.connect(nqn: nqn, ip: "127.0.0.1", port: 4420, volume: "vol")
        #expect(path == "\(devices.path)/longhorn/vol")
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFBLK)
        // 259:7 in Linux's dev_t encoding: minor's low byte, then the major from bit 8.
        #expect(info.st_rdev == 259 << 8 | 7)

        // The namespace still there: disconnecting needs nvme-cli, and says so.
        let refused = #expect(throws: InstanceManagerError.self) {
            try initiator.disconnect(nqn: nqn, volume: "vol")
        }
        #expect(refused?.message.contains("nvme-cli is not installed") == true)
        #expect(stat(path, &info) != 0)
    }

    @Test func withoutNVMeCLIAConnectIsAClearError() async throws {
        let root = try ScratchDirectory()
        let initiator = KernelNVMeInitiator(sysfsRoot: root.path, nvmeCLICandidates: ["/nonexistent/nvme"])
        let error = await #expect(throws: InstanceManagerError.self) {
            _ = try await initiator.connect(nqn: nqn, ip: "127.0.0.1", port: 4420, volume: "vol")
        }
        #expect(error?.code == .failedPrecondition)
        #expect(error?.message.contains("cannot connect to \(nqn) at 127.0.0.1:4420: nvme-cli is not installed") == true)
        // Nothing connected, nothing to remove: a disconnect is a no-op.
        try initiator.disconnect(nqn: nqn, volume: "vol")
    }
}
