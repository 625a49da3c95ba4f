// The host's kernel NVMe/TCP initiator, for the `spdk-tcp-blockdev` frontend (longhorn-api.md
// §4.4, EngineFrontend create): `nvme connect` (nvme-cli) to the engine's subsystem, the
// namespace's block device found in sysfs by the subsystem NQN, and `/dev/longhorn/<volume>` made
// as a block device node with its numbers. Teardown removes the node and disconnects.
//
// Where the kernel has no nvme_tcp module the engine says so before anything is connected
// (`KernelNVMeTCP.isAvailable`). The node points at the namespace itself: there is no
// device-mapper layer in between.

import Glibc

public struct KernelNVMeInitiator: Sendable {
    /// Where sysfs is mounted.
    public var sysfsRoot: String
    /// Where volume device nodes are made.
    public var deviceDirectory: String
    /// nvme-cli, the first of these that is executable.
    public var nvmeCLICandidates: [String]
    /// How long a connected namespace may take to appear.
    public var deviceWait: Duration

    public init(
        sysfsRoot: String = "/sys", deviceDirectory: String = "/dev/longhorn",
        nvmeCLICandidates: [String] = ["/usr/sbin/nvme", "/sbin/nvme", "/usr/bin/nvme"],
        deviceWait: Duration = .seconds(10)
    ) {
        self.sysfsRoot = sysfsRoot
        self.deviceDirectory = deviceDirectory
        self.nvmeCLICandidates = nvmeCLICandidates
        self.deviceWait = deviceWait
    }

    /// A namespace block device of the host: its name ("nvme0n1") and device numbers.
    public struct NamespaceDevice: Equatable, Sendable {
        public var name: String
        public var major: UInt32
        public var minor: UInt32

        public init(name: String, major: UInt32, minor: UInt32) {
            self.name = name
            self.major = major
            self.minor = minor
        }
    }

    /// Connects `nqn` at ip:port (reused if already connected) and makes the volume's device
    /// node; returns its path.
    public func connect(nqn: String, ip: String, port: Int, volume: String) async throws(InstanceManagerError) -> String {
        if namespaceDevice(subsystemNQN: nqn) == nil {
            let arguments = [
                "connect", "-t", "tcp", "--nqn", nqn, "-a", ip, "-s", String(port),
                "--ctrl-loss-tmo", "30", "--keep-alive-tmo", "5", "--reconnect-delay", "2",
            ]
            try runNVMeCLI(arguments, doing: "connect to \(nqn) at \(ip):\(port)")
        }
        let clock = ContinuousClock()
        let deadline = clock.now + deviceWait
        var device = namespaceDevice(subsystemNQN: nqn)
        while device == nil && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
            device = namespaceDevice(subsystemNQN: nqn)
        }
        guard let device else {
            throw InstanceManagerError(
                .internalError, "connected to \(nqn) but no namespace block device appeared within \(deviceWait)")
        }
        return try makeDeviceNode(for: volume, device: device)
    }

    /// Removes the volume's device node and disconnects `nqn`; nothing connected is fine.
    public func disconnect(nqn: String, volume: String) throws(InstanceManagerError) {
        let path = devicePath(volume)
        if unlink(path) != 0 && errno != ENOENT {
            throw InstanceManagerError(.internalError, "cannot remove \(path): \(String(cString: strerror(errno)))")
        }
        guard namespaceDevice(subsystemNQN: nqn) != nil else { return }
        try runNVMeCLI(["disconnect", "--nqn", nqn], doing: "disconnect \(nqn)")
    }

    public func devicePath(_ volume: String) -> String { "\(deviceDirectory)/\(volume)" }

    /// The namespace block device of the subsystem `nqn`, from sysfs: a controller
    /// (`class/nvme/nvmeX`) or a subsystem (`class/nvme-subsystem/nvme-subsysN`, native
    /// multipath) whose `subsysnqn` is `nqn`, and the `nvme<X>n<Y>` entry under it with a `dev`
    /// in `class/block`.
    public func namespaceDevice(subsystemNQN nqn: String) -> NamespaceDevice? {
        for parent in ["\(sysfsRoot)/class/nvme-subsystem", "\(sysfsRoot)/class/nvme"] {
            for entry in directoryEntries(parent) {
                let directory = "\(parent)/\(entry)"
                guard readSmallFile("\(directory)/subsysnqn")?.trimmingWhitespace() == nqn else { continue }
                for name in directoryEntries(directory).sorted() where Self.isNamespaceName(name) {
                    guard let numbers = readSmallFile("\(sysfsRoot)/class/block/\(name)/dev")?.trimmingWhitespace(),
                        let colon = numbers.firstIndex(of: ":"),
                        let major = UInt32(numbers[..<colon]),
                        let minor = UInt32(numbers[numbers.index(after: colon)...])
                    else { continue }
                    return NamespaceDevice(name: name, major: major, minor: minor)
                }
            }
        }
        return nil
    }

    /// "nvme0n1", "nvme12n3"; not partitions ("nvme0n1p1") or controller paths ("nvme0c0n1").
    public static func isNamespaceName(_ name: String) -> Bool {
        guard name.hasPrefix("nvme") else { return false }
        let rest = name.dropFirst(4)
        guard let n = rest.firstIndex(of: "n") else { return false }
        let controller = rest[..<n]
        let namespace = rest[rest.index(after: n)...]
        return !controller.isEmpty && !namespace.isEmpty && controller.allSatisfy(\.isASCIIDigit)
            && namespace.allSatisfy(\.isASCIIDigit)
    }

    /// `<deviceDirectory>/<volume>` as a block device node with the namespace's numbers
    /// (replacing a stale one).
    public func makeDeviceNode(for volume: String, device: NamespaceDevice) throws(InstanceManagerError) -> String {
        if mkdir(deviceDirectory, 0o755) != 0 && errno != EEXIST {
            throw InstanceManagerError(
                .internalError, "cannot create \(deviceDirectory): \(String(cString: strerror(errno)))")
        }
        let path = devicePath(volume)
        _ = unlink(path)
        let number = Self.makeDevice(major: device.major, minor: device.minor)
        guard mknod(path, S_IFBLK | 0o660, number) == 0 else {
            throw InstanceManagerError(
                .internalError,
                "cannot make \(path) for \(device.name) (\(device.major):\(device.minor)): \(String(cString: strerror(errno)))")
        }
        return path
    }

    /// Linux's dev_t encoding (glibc's gnu_dev_makedev).
    static func makeDevice(major: UInt32, minor: UInt32) -> dev_t {
        let major = UInt64(major)
        let minor = UInt64(minor)
        return dev_t((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12) | ((major & ~0xfff) << 32))
    }

    private func runNVMeCLI(_ arguments: [String], doing what: String) throws(InstanceManagerError) {
        guard let cli = nvmeCLICandidates.first(where: { access($0, X_OK) == 0 }) else {
            throw InstanceManagerError(
                .failedPrecondition, "cannot \(what): nvme-cli is not installed (looked for \(nvmeCLICandidates.joined(separator: ", ")))")
        }
        let result = runCapturingOutput(cli, arguments)
        guard let result, result.status == 0 else {
            let output = result?.output.trimmingWhitespace() ?? ""
            throw InstanceManagerError(
                .internalError,
                "cannot \(what): nvme \(arguments.first ?? "") \(result.map { "exited with status \($0.status)" } ?? "did not run")\(output.isEmpty ? "" : ": \(output)")")
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
