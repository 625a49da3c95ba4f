import ArgumentParser
import Foundation
import Glibc
import InstanceManagerServer

/// `hornbill instance-manager`: Longhorn's instance manager (V1 processes, V2 disks, replicas and
/// engines over the node's `hornbill tgt`) on five consecutive gRPC ports.
struct InstanceManagerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instance-manager",
        abstract: "Run the instance manager: gRPC services for V1 processes and V2 disks, replicas and engines.",
        discussion: """
            Listens on five consecutive ports from --listen: +0 ProcessManagerService, +1 \
            ProxyEngineService, +2 DiskService, +3 InstanceService, +4 SPDKService (only with \
            --spdk-enabled). V2 instances live in the `hornbill tgt` at --spdk-socket.
            """)

    @Option(help: "Listen address, host:port ([v6]:port); five consecutive ports from it.")
    var listen = "0.0.0.0:\(InstanceManagerPorts.defaultListenPort)"

    @Flag(help: "Enable the V2 (SPDK) data engine, driving the tgt at --spdk-socket.")
    var spdkEnabled = false

    @Option(help: "Ports for V1 processes, first-last.")
    var portRange = "10000-20000"

    @Option(help: "Ports for V2 replicas and engine targets, first-last.")
    var spdkPortRange = "20001-30000"

    @Option(help: "The tgt's JSON-RPC socket.")
    var spdkSocket = "/var/tmp/spdk.sock"

    @Option(help: "Directory for process logs and the record of running processes.")
    var dataDir = "/var/lib/hornbill/instance-manager"

    @Option(help: "The address replicas and engine targets listen on (default: the listen host if specific, else the host's first non-loopback IPv4, else 127.0.0.1).")
    var ip: String?

    func validate() throws {
        _ = try parsedListen()
        let v1 = try Self.parseRange(portRange, option: "--port-range")
        let v2 = try Self.parseRange(spdkPortRange, option: "--spdk-port-range")
        guard !v1.overlaps(v2) else {
            throw ValidationError("--port-range \(portRange) overlaps --spdk-port-range \(spdkPortRange)")
        }
        if let ip, !Self.isIPAddress(ip) { throw ValidationError("--ip \(ip) is not an IP address") }
    }

    func run() async throws {
        let (host, port) = try parsedListen()
        let configuration = InstanceManagerDaemonConfiguration(
            listenHost: host, listenPort: port, spdkEnabled: spdkEnabled,
            portRange: try Self.parseRange(portRange, option: "--port-range"),
            spdkPortRange: try Self.parseRange(spdkPortRange, option: "--spdk-port-range"),
            spdkSocket: spdkSocket, dataDirectory: dataDir, ip: ip ?? Self.defaultIP(listenHost: host),
            build: InstanceManagerBuild(version: "hornbill", gitCommit: "", buildDate: ""))
        let daemon = try InstanceManagerDaemon(configuration: configuration)
        let (stops, stop) = AsyncStream<Void>.makeStream()
        try handleStopSignals(stop)
        // The first signal asks for a graceful stop; one that has not finished within the grace
        // period, or a second signal, ends the process at once. Its V1 children may then outlive
        // it: the next instance manager stops them from the record under --data-dir.
        Task {
            var signals = 0
            for await _ in stops {
                signals += 1
                guard signals == 1 else { Self.exitNow("a second stop signal") }
                daemon.shutdown()
                Task {
                    try await Task.sleep(for: Self.shutdownGracePeriod)
                    Self.exitNow("not stopped within \(Self.shutdownGracePeriod)")
                }
            }
        }
        let ports = port + InstanceManagerPorts.instanceOffset
        let running = Task { try await daemon.run() }
        do {
            // Said only once every port is bound; a port taken is one line and a non-zero exit.
            _ = try await daemon.listeningPorts()
        } catch {
            // A server that cannot bind ends them all; run() says why once the others stopped.
            daemon.shutdown()
            var cause: any Error = error
            do { try await running.value } catch { cause = error }
            FileHandle.standardError.write(Data("hornbill instance-manager: \(cause)\n".utf8))
            throw ExitCode.failure
        }
        FileHandle.standardError.write(
            Data(
                "hornbill instance-manager: listening on \(host):\(port)-\(port + (spdkEnabled ? 4 : 3)) (instances on \(ports)), storage IP \(configuration.ip)\n"
                    .utf8))
        do {
            try await running.value
        } catch {
            FileHandle.standardError.write(Data("hornbill instance-manager: \(error)\n".utf8))
            throw ExitCode.failure
        }
        FileHandle.standardError.write(Data("hornbill instance-manager: stopped\n".utf8))
    }

    /// How long a graceful stop may take: calls under way finish, V1 processes get SIGTERM.
    static let shutdownGracePeriod: Duration = .seconds(45)

    static func exitNow(_ reason: String) -> Never {
        FileHandle.standardError.write(Data("hornbill instance-manager: stopping at once: \(reason)\n".utf8))
        Glibc.exit(1)
    }

    private func parsedListen() throws -> (host: String, port: Int) {
        var host: Substring
        let portText: Substring
        if listen.hasPrefix("[") {
            guard let close = listen.firstIndex(of: "]"), listen[listen.index(after: close)...].hasPrefix(":") else {
                throw ValidationError("--listen \(listen): want host:port or [v6]:port")
            }
            host = listen[listen.index(after: listen.startIndex)..<close]
            portText = listen[listen.index(close, offsetBy: 2)...]
        } else {
            guard let colon = listen.lastIndex(of: ":") else {
                throw ValidationError("--listen \(listen): want host:port or [v6]:port")
            }
            host = listen[..<colon]
            portText = listen[listen.index(after: colon)...]
        }
        if host.isEmpty { host = "0.0.0.0" }
        guard Self.isIPAddress(String(host)) else { throw ValidationError("--listen \(listen): \(host) is not an IP address") }
        let last = spdkEnabled ? InstanceManagerPorts.spdkOffset : InstanceManagerPorts.instanceOffset
        guard let port = Int(portText), port >= 1, port + last <= 65535 else {
            throw ValidationError("--listen \(listen): the port must be 1-\(65535 - last) (\(last + 1) consecutive ports)")
        }
        return (String(host), port)
    }

    /// "first-last" with 1 <= first <= last <= 65535.
    static func parseRange(_ text: String, option: String) throws -> ClosedRange<Int> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let first = Int(parts[0]), let last = Int(parts[1]), first >= 1, first <= last,
            last <= 65535
        else {
            throw ValidationError("\(option) \(text): want first-last with 1 <= first <= last <= 65535")
        }
        return first...last
    }

    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// The listen host if specific, else the first non-loopback IPv4 address, else 127.0.0.1.
    static func defaultIP(listenHost: String) -> String {
        if listenHost != "0.0.0.0", listenHost != "::" { return listenHost }
        let loopbackFlag: UInt32 = 0x8  // IFF_LOOPBACK
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return "127.0.0.1" }
        defer { freeifaddrs(list) }
        var entry: UnsafeMutablePointer<ifaddrs>? = first
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            guard let address = current.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                current.pointee.ifa_flags & loopbackFlag == 0
            else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            let found = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                var raw = v4.pointee.sin_addr
                return inet_ntop(AF_INET, &raw, &text, socklen_t(text.count)) != nil
            }
            if found { return String(cString: text) }
        }
        return "127.0.0.1"
    }
}
