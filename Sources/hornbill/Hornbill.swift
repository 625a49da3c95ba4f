import ArgumentParser

@main
struct Hornbill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hornbill",
        abstract: "Replicated block storage in userspace: logical volumes and an SPDK-compatible data-plane daemon.",
        subcommands: [TgtCommand.self, RPCCommand.self, PerfCommand.self]
    )
}
