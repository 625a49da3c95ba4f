// A Longhorn volume attachment (`volumeattachments.longhorn.io`), named like its volume: every
// party that wants the volume attached holds a ticket; the controller picks the winning ticket,
// writes the volume's `spec.nodeID`, and marks the tickets it satisfied.

/// A volume attachment resource.
public struct VolumeAttachment: Codable, Sendable, Equatable {
    public var metadata: ResourceMetadata
    public var spec: VolumeAttachmentSpec
    public var status: VolumeAttachmentStatus

    public init(
        metadata: ResourceMetadata, spec: VolumeAttachmentSpec,
        status: VolumeAttachmentStatus = VolumeAttachmentStatus()
    ) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try c.decode(ResourceMetadata.self, forKey: .metadata)
        spec = try c.decodeIfPresent(VolumeAttachmentSpec.self, forKey: .spec) ?? VolumeAttachmentSpec()
        status = try c.decodeIfPresent(VolumeAttachmentStatus.self, forKey: .status) ?? VolumeAttachmentStatus()
    }
}

/// The volume and the tickets asking for it.
public struct VolumeAttachmentSpec: Codable, Sendable, Equatable {
    public var volume: String
    /// Ticket ID → ticket.
    public var attachmentTickets: [String: AttachmentTicket]

    public init(volume: String = "", attachmentTickets: [String: AttachmentTicket] = [:]) {
        self.volume = volume
        self.attachmentTickets = attachmentTickets
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        volume = try c.lenient(.volume)
        attachmentTickets = try c.lenient(.attachmentTickets)
    }
}

/// Attacher types, in Longhorn's spelling.
public enum AttacherType {
    public static let longhornAPI = "longhorn-api"
    public static let csiAttacher = "csi-attacher"
    public static let snapshotController = "snapshot-controller"
    public static let backupController = "backup-controller"
    public static let volumeCloneController = "volume-clone-controller"
    public static let salvageController = "salvage-controller"
    public static let volumeRestoreController = "volume-restore-controller"
    public static let volumeEvictionController = "volume-eviction-controller"
    public static let volumeExpansionController = "volume-expansion-controller"
    public static let volumeRebuildingController = "volume-rebuilding-controller"
    public static let shareManagerController = "share-manager-controller"
}

/// One party's request to attach the volume on a node.
public struct AttachmentTicket: Codable, Sendable, Equatable {
    public var id: String
    /// Who asks (see AttacherType).
    public var type: String
    public var nodeID: String
    /// `disableFrontend` ("true", "false" or "any") and `lastAttachedBy`.
    public var parameters: [String: String]
    public var generation: Int64

    public init(id: String, type: String, nodeID: String, parameters: [String: String] = [:], generation: Int64 = 0) {
        self.id = id
        self.type = type
        self.nodeID = nodeID
        self.parameters = parameters
        self.generation = generation
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.lenient(.id)
        type = try c.lenient(.type)
        nodeID = try c.lenient(.nodeID)
        parameters = try c.lenient(.parameters)
        generation = try c.lenient(.generation)
    }
}

/// Which tickets are satisfied.
public struct VolumeAttachmentStatus: Codable, Sendable, Equatable {
    /// Ticket ID → status.
    public var attachmentTicketStatuses: [String: AttachmentTicketStatus]

    public init(attachmentTicketStatuses: [String: AttachmentTicketStatus] = [:]) {
        self.attachmentTicketStatuses = attachmentTicketStatuses
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        attachmentTicketStatuses = try c.lenient(.attachmentTicketStatuses)
    }
}

/// Whether one ticket is satisfied, at which of its generations (condition type `Satisfied`).
public struct AttachmentTicketStatus: Codable, Sendable, Equatable {
    public var id: String
    public var satisfied: Bool
    public var conditions: [Condition]
    public var generation: Int64

    public init(id: String, satisfied: Bool = false, conditions: [Condition] = [], generation: Int64 = 0) {
        self.id = id
        self.satisfied = satisfied
        self.conditions = conditions
        self.generation = generation
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.lenient(.id)
        satisfied = try c.lenient(.satisfied)
        conditions = try c.lenient(.conditions)
        generation = try c.lenient(.generation)
    }
}
