import ArgumentParser

@main
struct Hornbill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hornbill",
        abstract: "Replicated block storage in userspace: logical volumes, RAID1 and NVMe/TCP in an SPDK-compatible daemon.",
        subcommands: [
            TgtCommand.self, RPCCommand.self, PerfCommand.self, NVMeCommand.self, ReplicaCommand.self, ControllerCommand.self,
            InstanceManagerCommand.self, ManagerCommand.self, ServerCommand.self, SettingCommand.self, NodeCommand.self,
            VolumeCommand.self,
        ]
    )
}
