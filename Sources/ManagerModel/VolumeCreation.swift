// A volume as `POST /v1/volumes` creates it: the fields a user may set, checked, and Longhorn's
// defaults filled in (its mutating and validating webhooks, longhorn-api.md §1.3): the size as a
// Kubernetes quantity rounded up to 2 MiB, `numberOfReplicas` 0 → `default-replica-count` of the
// data engine, `dataEngine` (or `backendStoreDriver`) v1 by default and v2 only while
// `v2-data-engine` is true, `frontend` `""` → `blockdev`, selectors as tags (each one a tag some
// disk or node has, as Longhorn's API checks), `snapshotMaxCount` 2 to 250 or 0. What Hornbill does
// not offer yet (backing images, restores, clones, encryption, RWX) is refused by name rather
// than ignored.

public import Foundation

/// The body of a volume create: every field optional, as Longhorn's API takes it.
public struct VolumeCreateRequest: Decodable, Sendable, Equatable {
    public var name: String?
    /// Bytes, or a Kubernetes quantity ("10Gi"); a JSON number is taken too.
    public var size: String?
    public var numberOfReplicas: Int?
    public var dataEngine: DataEngine?
    public var backendStoreDriver: DataEngine?
    public var frontend: VolumeFrontend?
    public var disableFrontend: Bool?
    public var dataLocality: DataLocality?
    public var accessMode: VolumeAccessMode?
    public var staleReplicaTimeout: Int?
    public var diskSelector: [String]?
    public var nodeSelector: [String]?
    public var replicaSoftAntiAffinity: VolumeSettingOverride?
    public var replicaZoneSoftAntiAffinity: VolumeSettingOverride?
    public var replicaDiskSoftAntiAffinity: VolumeSettingOverride?
    public var revisionCounterDisabled: Bool?
    public var snapshotMaxCount: Int?
    public var backingImage: String?
    public var fromBackup: String?
    public var dataSource: String?
    public var encrypted: Bool?
    public var migratable: Bool?

    public init(name: String? = nil, size: String? = nil) {
        self.name = name
        self.size = size
    }

    private enum CodingKeys: String, CodingKey {
        case name, size, numberOfReplicas, dataEngine, backendStoreDriver, frontend, disableFrontend, dataLocality
        case accessMode, staleReplicaTimeout, diskSelector, nodeSelector, replicaSoftAntiAffinity
        case replicaZoneSoftAntiAffinity, replicaDiskSoftAntiAffinity, revisionCounterDisabled, snapshotMaxCount
        case backingImage, fromBackup, dataSource, encrypted, migratable
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        if let text = try? c.decodeIfPresent(String.self, forKey: .size) {
            size = text
        } else if let number = try? c.decodeIfPresent(Int64.self, forKey: .size) {
            size = String(number)
        } else if c.contains(.size), try !c.decodeNil(forKey: .size) {
            throw DecodingError.dataCorruptedError(
                forKey: .size, in: c, debugDescription: "size must be a string (bytes or a quantity such as 10Gi) or a whole number")
        }
        numberOfReplicas = try c.decodeIfPresent(Int.self, forKey: .numberOfReplicas)
        dataEngine = try c.decodeIfPresent(DataEngine.self, forKey: .dataEngine)
        backendStoreDriver = try c.decodeIfPresent(DataEngine.self, forKey: .backendStoreDriver)
        frontend = try c.decodeIfPresent(VolumeFrontend.self, forKey: .frontend)
        disableFrontend = try c.decodeIfPresent(Bool.self, forKey: .disableFrontend)
        dataLocality = try c.decodeIfPresent(DataLocality.self, forKey: .dataLocality)
        accessMode = try c.decodeIfPresent(VolumeAccessMode.self, forKey: .accessMode)
        staleReplicaTimeout = try c.decodeIfPresent(Int.self, forKey: .staleReplicaTimeout)
        diskSelector = try c.decodeIfPresent([String].self, forKey: .diskSelector)
        nodeSelector = try c.decodeIfPresent([String].self, forKey: .nodeSelector)
        replicaSoftAntiAffinity = try c.decodeIfPresent(VolumeSettingOverride.self, forKey: .replicaSoftAntiAffinity)
        replicaZoneSoftAntiAffinity = try c.decodeIfPresent(
            VolumeSettingOverride.self, forKey: .replicaZoneSoftAntiAffinity)
        replicaDiskSoftAntiAffinity = try c.decodeIfPresent(
            VolumeSettingOverride.self, forKey: .replicaDiskSoftAntiAffinity)
        revisionCounterDisabled = try c.decodeIfPresent(Bool.self, forKey: .revisionCounterDisabled)
        snapshotMaxCount = try c.decodeIfPresent(Int.self, forKey: .snapshotMaxCount)
        backingImage = try c.decodeIfPresent(String.self, forKey: .backingImage)
        fromBackup = try c.decodeIfPresent(String.self, forKey: .fromBackup)
        dataSource = try c.decodeIfPresent(String.self, forKey: .dataSource)
        encrypted = try c.decodeIfPresent(Bool.self, forKey: .encrypted)
        migratable = try c.decodeIfPresent(Bool.self, forKey: .migratable)
    }
}

/// Why a volume cannot be created: a bad request, or (`forbidden`) one the settings refuse.
public struct VolumeCreationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var forbidden: Bool
    public init(_ message: String, forbidden: Bool = false) {
        self.message = message
        self.forbidden = forbidden
    }
    public var description: String { message }
}

/// What creating a volume reads besides its request.
public struct VolumeCreationContext: Sendable, Equatable {
    public var v2DataEngineEnabled: Bool
    /// `default-replica-count` per data engine.
    public var defaultReplicaCount: [DataEngine: Int]
    public init(v2DataEngineEnabled: Bool, defaultReplicaCount: [DataEngine: Int]) {
        self.v2DataEngineEnabled = v2DataEngineEnabled
        self.defaultReplicaCount = defaultReplicaCount
    }
}

public enum VolumeCreation {
    /// Sizes are rounded up to this (Longhorn's 2 MiB).
    public static let sizeAlignment: Int64 = 2 << 20
    public static let maximumReplicaCount = 20
    /// Minutes; Longhorn's CSI default.
    public static let defaultStaleReplicaTimeout = 2880
    /// Longhorn's bounds of `snapshotMaxCount` (0 takes the default).
    public static let minimumSnapshotCount = 2
    public static let maximumSnapshotCount = 250

    /// The volume `request` creates, `creating` with Longhorn's defaults, or why it cannot be.
    public static func volume(
        from request: VolumeCreateRequest, context: VolumeCreationContext, now: Date = Date()
    ) throws(VolumeCreationError) -> Volume {
        guard let name = request.name, !name.isEmpty else { throw VolumeCreationError("a volume needs a name") }
        do {
            try NameValidation.validateVolumeName(name)
        } catch {
            throw VolumeCreationError(error.description)
        }
        var spec = VolumeSpec()
        spec.size = StringInt64(try size(request.size))
        spec.dataEngine = try dataEngine(request, context: context)
        let replicas = request.numberOfReplicas ?? 0
        guard (0...maximumReplicaCount).contains(replicas) else {
            throw VolumeCreationError(
                "numberOfReplicas \(replicas) is out of range: it must be 1 to \(maximumReplicaCount), or 0 for the default")
        }
        spec.numberOfReplicas = replicas == 0 ? (context.defaultReplicaCount[spec.dataEngine] ?? 3) : replicas
        spec.frontend = try frontend(request.frontend ?? .unset, engine: spec.dataEngine)
        spec.disableFrontend = request.disableFrontend ?? false
        spec.dataLocality = request.dataLocality ?? .disabled
        if spec.dataLocality == .strictLocal && spec.numberOfReplicas != 1 {
            throw VolumeCreationError(
                "dataLocality strict-local needs numberOfReplicas 1, not \(spec.numberOfReplicas)")
        }
        spec.accessMode = request.accessMode ?? .readWriteOnce
        try refuseUnsupported(request, accessMode: spec.accessMode)
        let timeout = request.staleReplicaTimeout ?? 0
        guard timeout >= 0 else { throw VolumeCreationError("staleReplicaTimeout \(timeout) is negative") }
        spec.staleReplicaTimeout = timeout == 0 ? defaultStaleReplicaTimeout : timeout
        spec.diskSelector = try tags(request.diskSelector, field: "diskSelector")
        spec.nodeSelector = try tags(request.nodeSelector, field: "nodeSelector")
        spec.replicaSoftAntiAffinity = request.replicaSoftAntiAffinity ?? .ignored
        spec.replicaZoneSoftAntiAffinity = request.replicaZoneSoftAntiAffinity ?? .ignored
        spec.replicaDiskSoftAntiAffinity = request.replicaDiskSoftAntiAffinity ?? .ignored
        spec.revisionCounterDisabled = request.revisionCounterDisabled ?? false
        if spec.dataEngine == .v2 {
            // Longhorn forces it for v2: SPDK keeps no revision counter.
            spec.unmapMarkSnapChainRemoved = .disabled
            spec.revisionCounterDisabled = true
        }
        let snapshots = request.snapshotMaxCount ?? 0
        guard snapshots == 0 || (minimumSnapshotCount...maximumSnapshotCount).contains(snapshots) else {
            throw VolumeCreationError(
                "snapshotMaxCount \(snapshots) is out of range: it must be \(minimumSnapshotCount) to "
                    + "\(maximumSnapshotCount), or 0 for the default")
        }
        spec.snapshotMaxCount = snapshots
        var status = VolumeStatus()
        status.state = .creating
        status.robustness = .unknown
        status.frontendDisabled = spec.disableFrontend
        return Volume(
            metadata: ResourceMetadata(name: name, creationTimestamp: ISO8601DateFormatter().string(from: now)),
            spec: spec, status: status)
    }

    /// Bytes, rounded up to 2 MiB; more than 0.
    static func size(_ text: String?) throws(VolumeCreationError) -> Int64 {
        guard let text, !text.isEmpty else { throw VolumeCreationError("a volume needs a size (bytes, or a quantity such as 10Gi)") }
        let bytes: Int64
        do {
            bytes = try Quantity.parseBytes(text)
        } catch {
            throw VolumeCreationError("invalid size: \(error.description)")
        }
        guard bytes > 0 else { throw VolumeCreationError("invalid size \"\(text)\": a volume must be larger than 0 bytes") }
        let (rounded, overflow) = bytes.addingReportingOverflow(sizeAlignment - 1)
        guard !overflow else { throw VolumeCreationError("invalid size \"\(text)\": too large") }
        return rounded / sizeAlignment * sizeAlignment
    }

    static func dataEngine(
        _ request: VolumeCreateRequest, context: VolumeCreationContext
    ) throws(VolumeCreationError) -> DataEngine {
        if let current = request.dataEngine, let legacy = request.backendStoreDriver, current != legacy {
            throw VolumeCreationError(
                "dataEngine \(current.rawValue) and backendStoreDriver \(legacy.rawValue) disagree: give one, or both the same")
        }
        let engine = request.dataEngine ?? request.backendStoreDriver ?? .v1
        if engine == .v2 && !context.v2DataEngineEnabled {
            throw VolumeCreationError(
                "cannot create volume with data engine v2: v2-data-engine data engine is not enabled", forbidden: true)
        }
        return engine
    }

    /// `""` → blockdev; each engine's frontends (iSCSI and ublk are not served by Hornbill).
    static func frontend(_ frontend: VolumeFrontend, engine: DataEngine) throws(VolumeCreationError) -> VolumeFrontend {
        switch frontend {
        case .unset, .blockdev: return .blockdev
        case .nbd: return .nbd
        case .nvmf:
            guard engine == .v2 else { throw VolumeCreationError("frontend nvmf needs data engine v2") }
            return .nvmf
        case .iscsi, .ublk:
            throw VolumeCreationError(
                "frontend \(frontend.rawValue) is not supported: use blockdev, nbd\(engine == .v2 ? " or nvmf" : "")")
        }
    }

    static func refuseUnsupported(
        _ request: VolumeCreateRequest, accessMode: VolumeAccessMode
    ) throws(VolumeCreationError) {
        let unsupported: [(Bool, String)] = [
            (!(request.backingImage ?? "").isEmpty, "backing images are not supported"),
            (!(request.fromBackup ?? "").isEmpty, "restoring from a backup is not supported"),
            (!(request.dataSource ?? "").isEmpty, "cloning from a data source is not supported"),
            (request.encrypted == true, "encrypted volumes are not supported"),
            (request.migratable == true, "migratable volumes are not supported (they need accessMode rwx)"),
            (accessMode == .readWriteMany, "accessMode rwx is not supported: use rwo or rwop"),
        ]
        if let refused = unsupported.first(where: \.0) { throw VolumeCreationError(refused.1) }
    }

    /// Longhorn's API refuses a selector naming a tag no disk (or node) has: such a volume could
    /// never be scheduled. `diskTags` and `nodeTags` are the tags in use now.
    public static func refuseUnknownTags(
        _ spec: VolumeSpec, diskTags: Set<String>, nodeTags: Set<String>
    ) throws(VolumeCreationError) {
        if let tag = spec.diskSelector.first(where: { !diskTags.contains($0) }) {
            throw VolumeCreationError("specified disk tag \(tag) does not exist")
        }
        if let tag = spec.nodeSelector.first(where: { !nodeTags.contains($0) }) {
            throw VolumeCreationError("specified node tag \(tag) does not exist")
        }
    }

    static func tags(_ tags: [String]?, field: String) throws(VolumeCreationError) -> [String] {
        do {
            return try NameValidation.validateTags(tags ?? [])
        } catch {
            throw VolumeCreationError("invalid \(field): \(error.description)")
        }
    }
}
