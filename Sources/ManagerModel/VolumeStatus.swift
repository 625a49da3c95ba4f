/// What the volume controller observes of a volume.
public struct VolumeStatus: Codable, Sendable, Equatable {
    public var ownerID: String = ""
    public var state: VolumeState = .creating
    public var robustness: VolumeRobustness = .unknown
    /// The node the volume's frontend is attached on.
    public var currentNodeID: String = ""
    /// The node of the v2 target.
    public var currentEngineNodeID: String = ""
    public var currentImage: String = ""
    public var kubernetesStatus: KubernetesStatus = KubernetesStatus()
    /// Scheduled, Restore, TooManySnapshots, … (see VolumeConditionType).
    public var conditions: [Condition] = []
    public var lastBackup: String = ""
    public var lastBackupAt: String = ""
    public var currentMigrationNodeID: String = ""
    public var frontendDisabled: Bool = false
    public var restoreRequired: Bool = false
    public var restoreInitiated: Bool = false
    public var cloneStatus: VolumeCloneStatus = VolumeCloneStatus()
    public var remountRequestedAt: String = ""
    public var expansionRequired: Bool = false
    public var isStandby: Bool = false
    public var actualSize: Int64 = 0
    public var lastDegradedAt: String = ""
    public var lastAutoSalvagedAt: String = ""
    public var shareEndpoint: String = ""
    public var shareState: String = ""
    /// Omitted when empty.
    public var lastOnDemandSnapshotHashingCompleteAt: String = ""
    public var switchoverState: SwitchoverState = .unset

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case ownerID, state, robustness, currentNodeID, currentEngineNodeID, currentImage, kubernetesStatus
        case conditions, lastBackup, lastBackupAt, currentMigrationNodeID, frontendDisabled, restoreRequired
        case restoreInitiated, cloneStatus, remountRequestedAt, expansionRequired, isStandby, actualSize
        case lastDegradedAt, lastAutoSalvagedAt, shareEndpoint, shareState, lastOnDemandSnapshotHashingCompleteAt
        case switchoverState
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ownerID = try c.lenient(.ownerID)
        state = try c.lenient(.state)
        robustness = try c.lenient(.robustness)
        currentNodeID = try c.lenient(.currentNodeID)
        currentEngineNodeID = try c.lenient(.currentEngineNodeID)
        currentImage = try c.lenient(.currentImage)
        kubernetesStatus = try c.decodeIfPresent(KubernetesStatus.self, forKey: .kubernetesStatus) ?? .init()
        conditions = try c.lenient(.conditions)
        lastBackup = try c.lenient(.lastBackup)
        lastBackupAt = try c.lenient(.lastBackupAt)
        currentMigrationNodeID = try c.lenient(.currentMigrationNodeID)
        frontendDisabled = try c.lenient(.frontendDisabled)
        restoreRequired = try c.lenient(.restoreRequired)
        restoreInitiated = try c.lenient(.restoreInitiated)
        cloneStatus = try c.decodeIfPresent(VolumeCloneStatus.self, forKey: .cloneStatus) ?? .init()
        remountRequestedAt = try c.lenient(.remountRequestedAt)
        expansionRequired = try c.lenient(.expansionRequired)
        isStandby = try c.lenient(.isStandby)
        actualSize = try c.lenient(.actualSize)
        lastDegradedAt = try c.lenient(.lastDegradedAt)
        lastAutoSalvagedAt = try c.lenient(.lastAutoSalvagedAt)
        shareEndpoint = try c.lenient(.shareEndpoint)
        shareState = try c.lenient(.shareState)
        lastOnDemandSnapshotHashingCompleteAt = try c.lenient(.lastOnDemandSnapshotHashingCompleteAt)
        switchoverState = try c.lenient(.switchoverState)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ownerID, forKey: .ownerID)
        try c.encode(state, forKey: .state)
        try c.encode(robustness, forKey: .robustness)
        try c.encode(currentNodeID, forKey: .currentNodeID)
        try c.encode(currentEngineNodeID, forKey: .currentEngineNodeID)
        try c.encode(currentImage, forKey: .currentImage)
        try c.encode(kubernetesStatus, forKey: .kubernetesStatus)
        try c.encode(conditions, forKey: .conditions)
        try c.encode(lastBackup, forKey: .lastBackup)
        try c.encode(lastBackupAt, forKey: .lastBackupAt)
        try c.encode(currentMigrationNodeID, forKey: .currentMigrationNodeID)
        try c.encode(frontendDisabled, forKey: .frontendDisabled)
        try c.encode(restoreRequired, forKey: .restoreRequired)
        try c.encode(restoreInitiated, forKey: .restoreInitiated)
        try c.encode(cloneStatus, forKey: .cloneStatus)
        try c.encode(remountRequestedAt, forKey: .remountRequestedAt)
        try c.encode(expansionRequired, forKey: .expansionRequired)
        try c.encode(isStandby, forKey: .isStandby)
        try c.encode(actualSize, forKey: .actualSize)
        try c.encode(lastDegradedAt, forKey: .lastDegradedAt)
        try c.encode(lastAutoSalvagedAt, forKey: .lastAutoSalvagedAt)
        try c.encode(shareEndpoint, forKey: .shareEndpoint)
        try c.encode(shareState, forKey: .shareState)
        try c.encodeUnlessZero(lastOnDemandSnapshotHashingCompleteAt, forKey: .lastOnDemandSnapshotHashingCompleteAt)
        try c.encode(switchoverState, forKey: .switchoverState)
    }
}

/// The Kubernetes objects that use a volume: its PV, PVC and the pods mounting it.
public struct KubernetesStatus: Codable, Sendable, Equatable {
    public var pvName: String = ""
    public var pvStatus: String = ""
    public var namespace: String = ""
    public var pvcName: String = ""
    public var lastPVCRefAt: String = ""
    public var workloadsStatus: [WorkloadStatus] = []
    public var lastPodRefAt: String = ""

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pvName = try c.lenient(.pvName)
        pvStatus = try c.lenient(.pvStatus)
        namespace = try c.lenient(.namespace)
        pvcName = try c.lenient(.pvcName)
        lastPVCRefAt = try c.lenient(.lastPVCRefAt)
        workloadsStatus = try c.lenient(.workloadsStatus)
        lastPodRefAt = try c.lenient(.lastPodRefAt)
    }
}

/// One pod using a volume.
public struct WorkloadStatus: Codable, Sendable, Equatable {
    public var podName: String = ""
    public var podStatus: String = ""
    public var workloadName: String = ""
    public var workloadType: String = ""

    public init(podName: String = "", podStatus: String = "", workloadName: String = "", workloadType: String = "") {
        self.podName = podName
        self.podStatus = podStatus
        self.workloadName = workloadName
        self.workloadType = workloadType
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        podName = try c.lenient(.podName)
        podStatus = try c.lenient(.podStatus)
        workloadName = try c.lenient(.workloadName)
        workloadType = try c.lenient(.workloadType)
    }
}

/// Progress of cloning a volume from another one's snapshot.
public struct VolumeCloneStatus: Codable, Sendable, Equatable {
    public var sourceVolume: String = ""
    public var snapshot: String = ""
    public var state: String = ""
    public var attemptCount: Int = 0
    public var nextAllowedAttemptAt: String = ""

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sourceVolume = try c.lenient(.sourceVolume)
        snapshot = try c.lenient(.snapshot)
        state = try c.lenient(.state)
        attemptCount = try c.lenient(.attemptCount)
        nextAllowedAttemptAt = try c.lenient(.nextAllowedAttemptAt)
    }
}
