// The store's limits: what a name, a label or a document may be, how much history is kept and
// how much a watcher may hold before it falls back to reading the history.

/// Limits on what the store accepts and keeps.
public enum StoreLimits {
    /// Longest resource name: a Kubernetes object name is a DNS subdomain (RFC 1123), 253 chars.
    public static let nameLengthMax = 253
    /// Longest kind: kinds are Longhorn's resource names ("instanceManagers"), a DNS label's 63.
    public static let kindLengthMax = 63
    /// Largest document: Kubernetes caps an object at about 1.5 MiB (etcd's request limit);
    /// Longhorn's largest resources (a node with many disks) stay far below 1 MiB.
    public static let documentBytesMax = 1 << 20
    /// Most labels on one resource: Longhorn sets a handful; the bound keeps a row small.
    public static let labelCountMax = 64
    /// Longest label key prefix (a DNS subdomain) and key name or value (a DNS label), as
    /// Kubernetes checks them.
    public static let labelPrefixLengthMax = 253
    public static let labelNameLengthMax = 63
    /// Changes kept for watches to resume from (etcd keeps history until compaction; a watch
    /// after an older revision fails `compacted` and the caller lists again).
    public static let historyDefault = 10_000
    /// Events a watcher may have waiting before it stops buffering and reads from the history
    /// instead (bounds its memory; writers never wait for a watcher).
    public static let watchBufferEventsDefault = 1_024
    /// Document bytes a watcher may have waiting, for the same reason (1 024 events of 1 MiB
    /// would be a gigabyte).
    public static let watchBufferBytesDefault = 16 << 20
    /// Changes read from the history in one read while a watcher catches up.
    public static let watchPageSize = 256
    /// Distinct labels texts whose decoded maps are kept (a cluster's resources share a few
    /// hundred label sets).
    static let decodedLabelsMax = 1_024
}
