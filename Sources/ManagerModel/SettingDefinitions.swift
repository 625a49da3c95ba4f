// The settings the manager knows, with Longhorn's names, types, defaults and ranges
// (longhorn-api.md §2). A setting not stored has its default.

extension SettingDefinition {
    /// Every setting, sorted by name (the order Longhorn lists them in).
    public static let all: [SettingDefinition] = [
        SettingDefinition(
            name: "v2-data-engine", displayName: "V2 Data Engine",
            description: "Enables the V2 Data Engine, whose volumes are served by an SPDK-style target on every node. "
                + "It cannot be turned off while V2 volumes are attached.",
            category: .dangerZone, type: .bool, defaultValue: "false"),
        SettingDefinition(
            name: "v1-data-engine", displayName: "V1 Data Engine",
            description: "Enables the V1 Data Engine, whose volumes are served by replica and controller processes. "
                + "It cannot be turned off while V1 volumes are attached.",
            category: .dangerZone, type: .bool, defaultValue: "true"),
        SettingDefinition(
            name: "v2-data-engine-hugepage-limit", displayName: "Hugepage Size for V2 Data Engine",
            description: "The memory, in MiB, that the V2 Data Engine's target on each node allocates for its "
                + "I/O buffers, in hugepages where the node reserved them.",
            category: .v2DataEngine, type: .int, defaultValue: "2048", intRange: IntegerRange(minimum: 0)),
        SettingDefinition(
            name: "orphan-auto-deletion", displayName: "Orphaned Data Automatic Deletion",
            description: "Deletes orphaned replica data left on a node's disks automatically, instead of keeping "
                + "it listed as an orphan until someone deletes it.",
            category: .orphan, type: .bool, defaultValue: "false"),
        SettingDefinition(
            name: "storage-over-provisioning-percentage", displayName: "Storage Over Provisioning Percentage",
            description: "How much of a disk's usable capacity may be promised to replicas, in percent: above 100 "
                + "thin volumes may together be larger than the disk.",
            category: .scheduling, type: .int, defaultValue: "100", intRange: IntegerRange(minimum: 0)),
        SettingDefinition(
            name: "storage-minimal-available-percentage", displayName: "Storage Minimal Available Percentage",
            description: "A disk whose available capacity falls below this percentage of its size takes no new "
                + "replicas until space is freed.",
            category: .scheduling, type: .int, defaultValue: "25", intRange: IntegerRange(minimum: 0, maximum: 100)),
        SettingDefinition(
            name: "storage-reserved-percentage-for-default-disk",
            displayName: "Storage Reserved Percentage For Default Disk",
            description: "The percentage of a node's default disk kept out of scheduling when the disk is created "
                + "on a new node.",
            category: .scheduling, type: .int, defaultValue: "30", intRange: IntegerRange(minimum: 0, maximum: 100)),
        SettingDefinition(
            name: "default-replica-count", displayName: "Default Replica Count",
            description: "The number of replicas a volume gets when it is created without naming one.",
            category: .general, type: .int, defaultValue: perEngineJSON([.v1: "3", .v2: "3"]),
            intRange: IntegerRange(minimum: 1, maximum: 20), dataEngines: [.v1, .v2]),
        SettingDefinition(
            name: "replica-soft-anti-affinity", displayName: "Replica Node Level Soft Anti-Affinity",
            description: "Allows two replicas of one volume on the same node when no other node can take one. "
                + "Off: such a replica stays unscheduled.",
            category: .scheduling, type: .bool, defaultValue: "false"),
        SettingDefinition(
            name: "replica-zone-soft-anti-affinity", displayName: "Replica Zone Level Soft Anti-Affinity",
            description: "Allows two replicas of one volume in the same zone when no other zone can take one. "
                + "A node's zone is its topology.kubernetes.io/zone label.",
            category: .scheduling, type: .bool, defaultValue: "true"),
        SettingDefinition(
            name: "replica-disk-soft-anti-affinity", displayName: "Replica Disk Level Soft Anti-Affinity",
            description: "Allows two replicas of one volume on the same disk when no other disk can take one.",
            category: .scheduling, type: .bool, defaultValue: "true"),
        SettingDefinition(
            name: "allow-empty-node-selector-volume",
            displayName: "Allow Scheduling Empty Node Selector Volumes To Any Node",
            description: "Lets a volume without a node selector place replicas on nodes that have tags.",
            category: .scheduling, type: .bool, defaultValue: "true"),
        SettingDefinition(
            name: "allow-empty-disk-selector-volume",
            displayName: "Allow Scheduling Empty Disk Selector Volumes To Any Disk",
            description: "Lets a volume without a disk selector place replicas on disks that have tags.",
            category: .scheduling, type: .bool, defaultValue: "true"),
        SettingDefinition(
            name: "engine-replica-timeout", displayName: "Engine Replica Timeout",
            description: "How many seconds an engine waits for a replica to answer an outstanding I/O before it marks "
                + "the replica failed; the last replica left is given twice as long.",
            category: .general, type: .int, defaultValue: perEngineJSON([.v1: "8", .v2: "8"]),
            intRange: IntegerRange(minimum: 8, maximum: 30), dataEngines: [.v1, .v2]),
        SettingDefinition(
            name: "default-data-path", displayName: "Default Data Path",
            description: "Where a node's default disk keeps its data: a directory for a filesystem disk, or a block "
                + "device's path for a block disk. Changing it affects only nodes added later.",
            category: .general, type: .string, defaultValue: "/var/lib/longhorn", stringFormat: .absolutePath),
        SettingDefinition(
            name: "create-default-disk-labeled-nodes", displayName: "Create Default Disk on Labeled Nodes",
            description: "Creates the default disk only on nodes labeled node.longhorn.io/create-default-disk=true, "
                + "instead of on every new node.",
            category: .general, type: .bool, defaultValue: "false"),
        SettingDefinition(
            name: "auto-salvage", displayName: "Automatic salvage",
            description: "When every replica of a volume has failed (its engine died with them, say), the replicas "
                + "that failed last and held data are taken back and the volume is attached again where it is "
                + "wanted. Off: the volume stays detached and faulted until someone salvages it.",
            category: .general, type: .bool, defaultValue: "true"),
        SettingDefinition(
            name: "disable-scheduling-on-cordoned-node", displayName: "Disable Scheduling On Cordoned Node",
            description: "Keeps new replicas off nodes that are cordoned.",
            category: .scheduling, type: .bool, defaultValue: "true"),
    ].sorted { $0.name < $1.name }

    private static let byName: [String: SettingDefinition] = Dictionary(
        uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The definition of the setting called `name`, nil if there is none.
    public static func named(_ name: String) -> SettingDefinition? { byName[name] }

    /// The definition of the setting called `name`; `notFound` if there is none.
    public static func definition(of name: String) throws(SettingError) -> SettingDefinition {
        guard let definition = byName[name] else { throw .notFound(name: name) }
        return definition
    }
}
