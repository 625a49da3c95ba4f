import ArgumentParser
import BlockDevices
import Foundation
import NVMeTCP
import NVMeWire

/// `hornbill nvme`: NVMe/TCP host tools (like nvme-cli), for checking a target from the shell.
struct NVMeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nvme", abstract: "NVMe/TCP host tools (like nvme-cli).", subcommands: [Discover.self])

    struct Discover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the subsystems a target's discovery controller offers this host (nvme discover).")

        @Option(name: [.customShort("a"), .long], help: "Target address.")
        var traddr: String

        @Option(name: [.customShort("s"), .long], help: "Target port.")
        var trsvcid = "4420"

        @Option(name: [.customShort("q"), .long], help: "Host NQN (default: a random one).")
        var hostnqn: String?

        func run() async throws {
            let reactor = try Reactor(name: "nvme")
            defer { reactor.shutdown() }
            var options = NVMeHostController.Options(
                address: traddr, serviceID: trsvcid, subsystemNQN: NVMfSubsystem.discoveryNQN, hostNQN: hostnqn)
            options.keepAliveMilliseconds = 0
            let controller = try await NVMeHostController.attach(name: "discovery", options: options, reactor: reactor)
            let entries = try await controller.discoveryLog()
            await controller.detach()
            print("Discovery Log Number of Records \(entries.count)")
            for (index, entry) in entries.enumerated() {
                print("=====Discovery Log Entry \(index)======")
                print("trtype:  tcp")
                print("adrfam:  \(entry.isIPv6 ? "ipv6" : "ipv4")")
                print("subtype: \(entry.subtype == DiscoveryLogEntry.subtypeNVMe ? "nvme subsystem" : "discovery subsystem")")
                print("portid:  \(entry.portID)")
                print("trsvcid: \(entry.serviceID)")
                print("subnqn:  \(entry.subsystemNQN)")
                print("traddr:  \(entry.address)")
            }
        }
    }
}
