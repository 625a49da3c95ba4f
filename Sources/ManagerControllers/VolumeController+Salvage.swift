// A volume whose engine dies, or whose replicas all fail, while it is wanted on a node (an
// instance manager restarted, the whole node's server restarted): Longhorn's answer, in three
// steps over several reconciles.
// - The engine is `error` while the volume is attached (its instance ran and vanished), or no
//   replica is usable: the volume is `faulted` and goes `detaching`, so that the engine and every
//   replica are stopped; it then reads `detached`, never attached over an engine that is gone.
// - When the engine died, the replicas marked failed within `salvageWindow` before (their
//   instances vanished with it, noticed a moment earlier) are taken back at once, with
//   `auto-salvage` on: they failed with the engine, not under it.
// - Detached, still wanted (the attachment's ticket stays) and with no usable replica: with the
//   `auto-salvage` setting on, the replicas that held data (`healthyAt`) and failed within
//   `salvageWindow` of the last failure have their failure cleared; `lastAutoSalvagedAt` records
//   it. With it off the volume stays detached and faulted until the `salvage` action.
// - The attach path then runs again: replicas, engine, `attached`.
// A replica is marked healthy (`healthyAt`, `lastHealthyAt`) while the engine reports it RW, so
// that only replicas that served data are ever salvaged.

import Foundation
import ManagerModel
import ManagerStore

extension VolumeController {
    /// Replicas that failed this close to the last failure are salvaged with it (Longhorn's limit).
    static var salvageWindow: TimeInterval { 60 }

    /// The engine's instance ran and vanished (or failed) while the volume was attached.
    static func engineDied(_ state: VolumeState, engine: Engine) -> Bool {
        state.volume.status.state == .attached && engine.spec.instance.desireState == .running
            && engine.status.instance.currentState == .error
    }

    /// Clears the failure of the replicas that held data and failed last, when `auto-salvage` is on.
    func autoSalvage(_ state: inout VolumeState, now: String) async throws {
        let candidates = try await salvageCandidates(state)
        let failures = candidates.compactMap { KubernetesTime.parse(state.replicas[$0].value.spec.failedAt) }
        guard let last = failures.max() else { return }
        try await clearFailure(of: candidates, in: &state, failedSince: last.addingTimeInterval(-Self.salvageWindow))
        state.volume.status.lastAutoSalvagedAt = now
        state.volume.status.robustness = .unknown
    }

    /// Clears the failure of the replicas that held data and failed shortly before the engine died,
    /// when `auto-salvage` is on.
    func salvageReplicasThatFailedWithTheEngine(_ state: inout VolumeState) async throws {
        let candidates = try await salvageCandidates(state)
        guard !candidates.isEmpty else { return }
        try await clearFailure(
            of: candidates, in: &state, failedSince: configuration.now().addingTimeInterval(-Self.salvageWindow))
    }

    /// Failed replicas that held data and are placed, when `auto-salvage` is on.
    private func salvageCandidates(_ state: VolumeState) async throws -> [Int] {
        guard try await SettingValues(store: store).bool(SettingName.autoSalvage) else { return [] }
        return state.replicas.indices.filter { index in
            let replica = state.replicas[index].value
            return !replica.spec.healthyAt.isEmpty && !replica.spec.failedAt.isEmpty
                && !replica.spec.instance.nodeID.isEmpty && !replica.spec.diskID.isEmpty
                && !replica.metadata.isBeingDeleted
        }
    }

    private func clearFailure(of indices: [Int], in state: inout VolumeState, failedSince: Date) async throws {
        for index in indices {
            let stored = state.replicas[index]
            guard let failedAt = KubernetesTime.parse(stored.value.spec.failedAt), failedAt >= failedSince else { continue }
            var replica = stored.value
            replica.spec.failedAt = ""
            state.replicas[index] = try await store.update(
                replica, name: stored.name, labels: stored.labels, expectedVersion: stored.resourceVersion)
        }
    }

    /// Replicas the running engine reports RW are marked healthy.
    func markHealthyReplicas(_ state: inout VolumeState, engine: Engine, now: String) async throws {
        for index in state.replicas.indices {
            let stored = state.replicas[index]
            guard engine.status.replicaModeMap[stored.name] == .readWrite, stored.value.spec.healthyAt.isEmpty
            else { continue }
            var replica = stored.value
            replica.spec.healthyAt = now
            replica.spec.lastHealthyAt = now
            state.replicas[index] = try await store.update(
                replica, name: stored.name, labels: stored.labels, expectedVersion: stored.resourceVersion)
        }
    }
}
