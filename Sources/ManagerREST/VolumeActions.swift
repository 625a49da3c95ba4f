// The volume actions that change what is wanted: attachment tickets (attach, detach), the replica
// count, and salvaging a faulted volume's replicas. They write desired state only; the
// controllers make it so.

import Foundation
import ManagerModel

struct VolumeActions: Sendable {
    let store: any ResourceStore
    var access: StoredAccess { StoredAccess(store: store) }

    /// Adds or replaces the ticket `attachmentID` (default `<attacherType>-<hostId>`) for `hostId`.
    func attach(_ name: String, _ input: AttachInput) async throws(APIError) {
        let volume = try await existing(name)
        guard let node = input.hostId, !node.isEmpty else {
            throw APIError.badRequest("cannot attach volume \(name): hostId is required")
        }
        guard let stored = try await access.read(Node.self, node)?.value else {
            throw APIError.badRequest("cannot attach volume \(name) to node \(node): node \(node) not found")
        }
        guard stored.status.conditions.isTrue(NodeConditionType.ready) else {
            throw APIError.badRequest("cannot attach volume \(name) to node \(node): node \(node) is not ready")
        }
        if volume.status.state == .creating {
            throw APIError.conflict("cannot attach volume \(name): it is still being created")
        }
        let type = (input.attacherType ?? "").isEmpty ? AttacherType.longhornAPI : input.attacherType ?? ""
        let id = (input.attachmentID ?? "").isEmpty ? "\(type)-\(node)" : input.attachmentID ?? ""
        var parameters = ["disableFrontend": (input.disableFrontend ?? false) ? "true" : "false"]
        if let by = input.attachedBy, !by.isEmpty { parameters["lastAttachedBy"] = by }
        try await ensureAttachment(name)
        try await access.modify(VolumeAttachment.self, name) { attachment throws(APIError) in
            let generation = (attachment.spec.attachmentTickets[id]?.generation ?? -1) + 1
            let ticket = AttachmentTicket(id: id, type: type, nodeID: node, parameters: parameters, generation: generation)
            if let current = attachment.spec.attachmentTickets[id], current.nodeID == node, current.type == type,
                current.parameters == parameters
            {
                return
            }
            attachment.spec.attachmentTickets[id] = ticket
        }
    }

    /// Removes the ticket `attachmentID`; without one, the API's tickets (for `hostId` when
    /// given); `forceDetach` removes every ticket.
    func detach(_ name: String, _ input: DetachInput) async throws(APIError) {
        _ = try await existing(name)
        try await ensureAttachment(name)
        try await access.modify(VolumeAttachment.self, name) { attachment throws(APIError) in
            if input.forceDetach == true {
                attachment.spec.attachmentTickets = [:]
            } else if let id = input.attachmentID, !id.isEmpty {
                attachment.spec.attachmentTickets.removeValue(forKey: id)
            } else {
                let host = input.hostId ?? ""
                attachment.spec.attachmentTickets = attachment.spec.attachmentTickets.filter { _, ticket in
                    !(ticket.type == AttacherType.longhornAPI && (host.isEmpty || ticket.nodeID == host))
                }
            }
        }
    }

    func updateReplicaCount(_ name: String, _ input: UpdateReplicaCountInput) async throws(APIError) {
        guard let count = input.replicaCount, (1...VolumeCreation.maximumReplicaCount).contains(count) else {
            throw APIError.badRequest(
                "replicaCount must be 1 to \(VolumeCreation.maximumReplicaCount), not \(input.replicaCount.map(String.init) ?? "missing")")
        }
        try await access.modify(Volume.self, name) { volume throws(APIError) in
            try Self.refuseWhileDeleting(volume)
            if volume.spec.dataLocality == .strictLocal && count != 1 {
                throw APIError.badRequest(
                    "cannot update the replica count of volume \(name) to \(count): "
                        + "dataLocality strict-local needs numberOfReplicas 1")
            }
            volume.spec.numberOfReplicas = count
        }
    }

    /// Clears the failure of the replicas named, so that the volume controller may use them again.
    func salvage(_ name: String, _ input: SalvageInput) async throws(APIError) {
        let volume = try await existing(name)
        // Longhorn's wording first ("invalid volume state to salvage: attached"), then what is needed.
        guard volume.status.state == .detached else {
            throw APIError.conflict(
                "cannot salvage volume \(name): invalid volume state to salvage: \(volume.status.state.rawValue) "
                    + "(it must be detached and faulted)")
        }
        guard volume.status.robustness == .faulted else {
            throw APIError.conflict(
                "cannot salvage volume \(name): invalid robustness state to salvage: "
                    + "\(volume.status.robustness.rawValue) (it must be detached and faulted)")
        }
        let names = input.names ?? []
        guard !names.isEmpty else { throw APIError.badRequest("salvage needs the names of the replicas to salvage") }
        for replica in names {
            guard let stored = try await access.read(Replica.self, replica),
                stored.value.spec.instance.volumeName == name
            else {
                throw APIError.badRequest("replica \(replica) is not a replica of volume \(name)")
            }
        }
        for replica in names {
            try await access.modify(Replica.self, replica) { replica throws(APIError) in
                replica.spec.failedAt = ""
                replica.spec.instance.salvageRequested = true
            }
        }
    }

    private func existing(_ name: String) async throws(APIError) -> Volume {
        guard let volume = try await access.read(Volume.self, name)?.value else {
            throw APIError.notFound("volume \(name) not found")
        }
        try Self.refuseWhileDeleting(volume)
        return volume
    }

    private static func refuseWhileDeleting(_ volume: Volume) throws(APIError) {
        if volume.metadata.isBeingDeleted {
            throw APIError.conflict("volume \(volume.metadata.name) is being deleted")
        }
    }

    /// The volume's attachment, made if it is missing.
    func ensureAttachment(_ name: String) async throws(APIError) {
        guard try await access.read(VolumeAttachment.self, name) == nil else { return }
        let attachment = VolumeAttachment(
            metadata: ResourceMetadata(name: name, labels: ["longhornvolume": name]),
            spec: VolumeAttachmentSpec(volume: name))
        let attachmentDocument = try StoredDocuments.encode(attachment, name: name)
        do {
            _ = try await store.create(
                .volumeAttachments, name: name, labels: attachment.metadata.labels, document: attachmentDocument)
        } catch .alreadyExists {
        } catch {
            throw APIError(error)
        }
    }
}
