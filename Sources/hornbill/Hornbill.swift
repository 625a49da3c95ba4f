import ArgumentParser

@main
struct Hornbill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hornbill",
        abstract: "Replicated block storage: logical volumes, RAID1 and NVMe/TCP in userspace.",
        subcommands: [TgtCommand.self, RPCCommand.self, PerfCommand.self]
    )
}
