// Deleting a volume once its deletion is asked for (longhorn-api.md §7.4): `deleting`; every
// engine stopped and its deletion asked for; once no engine is left (the instance handler tears
// each down and removes it), every replica likewise (a V2 replica's lvols are destroyed then);
// once none is left, the volume's attachment, then the volume itself. A V1 volume's engines and
// replicas go in one pass.

import Foundation
import ManagerModel
import ManagerStore

extension VolumeController {
    func delete(_ state: inout VolumeState) async throws {
        state.volume.status.state = .deleting
        try await writeStatus(state)
        let now = KubernetesTime.format(configuration.now())
        for engine in state.engines where !engine.value.metadata.isBeingDeleted {
            var updated = engine.value
            updated.spec.instance.desireState = .stopped
            updated.metadata.deletionTimestamp = now
            _ = try await store.update(updated, name: engine.name, labels: engine.labels, expectedVersion: engine.resourceVersion)
        }
        let ordered = state.volume.spec.dataEngine == .v2
        if ordered && !state.engines.isEmpty { return }
        for replica in state.replicas where !replica.value.metadata.isBeingDeleted {
            var updated = replica.value
            updated.spec.instance.desireState = .stopped
            updated.metadata.deletionTimestamp = now
            _ = try await store.update(
                updated, name: replica.name, labels: replica.labels, expectedVersion: replica.resourceVersion)
        }
        guard state.engines.isEmpty, state.replicas.isEmpty else { return }
        if let attachment = try await store.get(VolumeAttachment.self, state.name) {
            _ = try await store.delete(VolumeAttachment.self, state.name, expectedVersion: attachment.resourceVersion)
        }
        guard let latest = try await store.get(Volume.self, state.name) else { return }
        _ = try await store.delete(Volume.self, state.name, expectedVersion: latest.resourceVersion)
    }
}
