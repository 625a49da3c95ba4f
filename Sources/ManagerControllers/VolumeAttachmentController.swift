// The attachment controller: a VolumeAttachment holds the tickets of every party that wants its
// volume attached; this controller decides where the volume goes and says which tickets that
// satisfies. A volume attached (or attaching) on a node stays there while a ticket for that node
// remains (read-write-once); otherwise the ticket that comes first (by attacher, then ID) wins.
// The winner's node becomes the volume's `spec.nodeID` and its `disableFrontend` parameter the
// volume's `status.frontendDisabled`; no ticket, no node (the volume controller detaches). A ticket
// is satisfied while the volume is attached on its node with the frontend it asked for.

public import Foundation
public import ManagerModel
import ManagerStore

public struct VolumeAttachmentController: Reconciler {
    let store: any ResourceStore
    let now: @Sendable () -> Date

    public init(store: any ResourceStore, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.now = now
    }

    public func keys() async throws -> [String] {
        try await store.list(VolumeAttachment.self).items.map(\.name)
    }

    public func keys(affectedBy event: ResourceEvent) -> [String] {
        switch event.resource.kind {
        case .volumeAttachments, .volumes: [event.resource.name]
        default: []
        }
    }

    public func reconcile(_ key: String) async throws {
        guard let attachment = try await store.get(VolumeAttachment.self, key) else { return }
        let volumeName = attachment.value.spec.volume.isEmpty ? key : attachment.value.spec.volume
        guard let volume = try await store.get(Volume.self, volumeName), !volume.value.metadata.isBeingDeleted else {
            return
        }
        let tickets = attachment.value.spec.attachmentTickets
        let winner = Self.winner(of: tickets, volume: volume.value)
        var wanted = volume.value
        wanted.spec.nodeID = winner?.nodeID ?? ""
        if let winner {
            wanted.status.frontendDisabled = winner.parameters["disableFrontend"] == "true"
            if let by = winner.parameters["lastAttachedBy"], !by.isEmpty { wanted.spec.lastAttachedBy = by }
        }
        if wanted != volume.value {
            _ = try await store.update(wanted, name: volume.name, labels: volume.labels, expectedVersion: volume.resourceVersion)
        }
        // Ticket statuses.
        var updated = attachment.value
        let attachedOn = volume.value.status.state == .attached ? volume.value.status.currentNodeID : ""
        var statuses: [String: AttachmentTicketStatus] = [:]
        for (id, ticket) in tickets {
            var status = updated.status.attachmentTicketStatuses[id] ?? AttachmentTicketStatus(id: id)
            let frontendMatches =
                ticket.parameters["disableFrontend"] == nil || ticket.parameters["disableFrontend"] == "any"
                || (ticket.parameters["disableFrontend"] == "true") == volume.value.status.frontendDisabled
            status.satisfied = !attachedOn.isEmpty && attachedOn == ticket.nodeID && frontendMatches
            status.generation = ticket.generation
            let message =
                status.satisfied
                ? "" : winner?.id == id ? "waiting for volume \(volumeName) to attach on \(ticket.nodeID)"
                : "volume \(volumeName) is wanted on \(winner?.nodeID ?? "no node") by ticket \(winner?.id ?? "")"
            _ = status.conditions.setCondition(
                "Satisfied", status: status.satisfied ? .isTrue : .isFalse,
                reason: status.satisfied ? "" : "Waiting", message: message, now: now())
            statuses[id] = status
        }
        updated.status.attachmentTicketStatuses = statuses
        if updated != attachment.value {
            _ = try await store.update(
                updated, name: attachment.name, labels: attachment.labels, expectedVersion: attachment.resourceVersion)
        }
    }

    /// The ticket the volume follows: one for the node it is on (or going to) if any, else the
    /// first by attacher type then ID.
    static func winner(of tickets: [String: AttachmentTicket], volume: Volume) -> AttachmentTicket? {
        let sticky = volume.status.currentNodeID.isEmpty ? volume.spec.nodeID : volume.status.currentNodeID
        let ordered = tickets.values.sorted { ($0.type, $0.id) < ($1.type, $1.id) }
        if !sticky.isEmpty, let staying = ordered.first(where: { $0.nodeID == sticky }) { return staying }
        return ordered.first
    }
}
