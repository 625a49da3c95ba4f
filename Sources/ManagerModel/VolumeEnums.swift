// A volume's enumerations, spelled as Longhorn spells them. Each zero value is what a document
// without the field means: Go's `""` where Longhorn keeps it, otherwise the default Longhorn's
// mutator or settings give.

/// The volume's lifecycle state.
public enum VolumeState: String, LonghornEnum {
    case creating, attached, detached, attaching, detaching, deleting
    public static var zero: VolumeState { .creating }
}

/// How healthy the volume's replicas are.
public enum VolumeRobustness: String, LonghornEnum {
    case healthy, degraded, faulted, unknown
    public static var zero: VolumeRobustness { .unknown }
}

/// How a volume is exposed on its node. `""` (no frontend) is used for standby volumes. `nbd` is
/// Hornbill's own: an NBD export of the volume.
public enum VolumeFrontend: String, LonghornEnum {
    case unset = ""
    case blockdev, iscsi, nvmf, ublk, nbd
    public static var zero: VolumeFrontend { .unset }
}

/// Who may mount the volume's filesystem.
public enum VolumeAccessMode: String, LonghornEnum {
    case readWriteOnce = "rwo"
    case readWriteOncePod = "rwop"
    case readWriteMany = "rwx"
    public static var zero: VolumeAccessMode { .readWriteOnce }
}

/// Whether a replica is kept on the node the volume is attached to.
public enum DataLocality: String, LonghornEnum {
    case disabled
    case bestEffort = "best-effort"
    case strictLocal = "strict-local"
    public static var zero: DataLocality { .disabled }
}

/// A per-volume switch that may defer to its global setting (`ignored`).
public enum VolumeSettingOverride: String, LonghornEnum {
    case ignored, enabled, disabled
    public static var zero: VolumeSettingOverride { .ignored }
}

/// Whether replicas are rebalanced across nodes and zones.
public enum ReplicaAutoBalance: String, LonghornEnum {
    case ignored, disabled
    case leastEffort = "least-effort"
    case bestEffort = "best-effort"
    public static var zero: ReplicaAutoBalance { .ignored }
}

/// How snapshot data is checked.
public enum SnapshotDataIntegrity: String, LonghornEnum {
    case ignored, disabled, enabled
    case fastCheck = "fast-check"
    public static var zero: SnapshotDataIntegrity { .ignored }
}

/// How backups are compressed.
public enum BackupCompressionMethod: String, LonghornEnum {
    case none, lz4, gzip
    /// Longhorn's `default-backup-compression-method` default.
    public static var zero: BackupCompressionMethod { .lz4 }
}

/// The phase of a v2 target switchover.
public enum SwitchoverState: String, LonghornEnum {
    case unset = ""
    case preparing
    case switchingOver = "switching-over"
    case finalizing, reverting
    public static var zero: SwitchoverState { .unset }
}

/// A replica's mode in its engine.
public enum ReplicaMode: String, LonghornEnum {
    case readWrite = "RW"
    case writeOnly = "WO"
    case error = "ERR"
    public static var zero: ReplicaMode { .error }
}
