// Attach and detach (longhorn-api.md §7.2, §7.3), one step per reconcile where a step must wait
// for the instance handler:
// - wanted on a node (`spec.nodeID`, set by the attachment controller) and not attached
//   elsewhere: every scheduled, healthy replica `running`; once all run with an address, the
//   engine on the node over `{replica: storageIP:port}` with the volume's frontend; once the engine
//   runs (with an endpoint, unless the frontend is disabled), `attached` on that node; an engine
//   that fails to start is stopped and started again;
// - not wanted (or wanted on another node): `detaching`; the engine stopped; once it is, every
//   replica stopped; once they are, `detached`.
// While attached, robustness follows the engine's replica modes (RW replicas against
// `numberOfReplicas`: healthy, degraded, or faulted when none), a replica the engine reports RW
// is marked healthy (`healthyAt`), and a replica the engine reports ERR, or whose instance failed,
// is marked failed (`failedAt`) and taken out of the engine's `spec.replicaAddressMap`; the
// engine's instance handler removes it from the running engine (EngineReplicaRemoval.swift), and
// once the engine's current address map no longer names it, it is stopped. The volume keeps
// serving from the others. When the engine dies, or every replica has failed, the volume is
// faulted and detached, and attached again once salvaged (VolumeController+Salvage).

import Foundation
import ManagerModel
import ManagerStore

extension VolumeController {
    func attachOrDetach(_ state: inout VolumeState) async throws {
        guard let engine = state.engine else { return }
        if Self.engineDied(state, engine: engine.value) {
            // Faulted and detached first (VolumeController+Salvage), then attached again while wanted.
            state.volume.status.robustness = .faulted
            state.volume.status.state = .detaching
            try await salvageReplicasThatFailedWithTheEngine(&state)
        }
        let wanted = state.volume.spec.nodeID
        let current = state.volume.status.currentNodeID
        let settling = state.volume.status.state == .detaching || state.volume.status.state == .creating
        if !wanted.isEmpty && (current.isEmpty || current == wanted) && !settling {
            try await attach(&state, engine: engine, node: wanted)
        } else {
            try await detach(&state, engine: engine)
        }
    }

    // MARK: Attach

    private func attach(_ state: inout VolumeState, engine stored: StoredObject<Engine>, node: String) async throws {
        let now = KubernetesTime.format(configuration.now())
        try await markFailedReplicas(&state, engine: stored.value, now: now)
        let engine = try await dropFailedReplicas(state, from: stored)
        try await stopFailedReplicasTheEngineLetGo(state, engine: engine.value)
        var usable = state.replicas.filter { Self.isUsable($0.value) }
        if usable.isEmpty, state.volume.status.state == .detached {
            try await autoSalvage(&state, now: now)
            usable = state.replicas.filter { Self.isUsable($0.value) }
        }
        guard !usable.isEmpty else {
            // Every replica failed: faulted, and detached before any salvage.
            state.volume.status.robustness = .faulted
            if state.volume.status.state == .attached || state.volume.status.state == .attaching {
                state.volume.status.state = .detaching
            }
            return
        }
        if state.volume.status.state != .attached { state.volume.status.state = .attaching }
        // 1. Every usable replica running.
        for replica in usable where replica.value.spec.instance.desireState != .running {
            try await setDesire(.running, of: replica)
        }
        // 2. The engine over them, once every one runs with an address (and an engine that
        //    failed to start has been stopped: it is started again).
        if engine.value.spec.instance.desireState != .running {
            guard Self.isStopped(engine.value.status.instance),
                usable.allSatisfy({ Self.address(of: $0.value) != nil })
            else { return }
            var spec = engine.value.spec
            spec.replicaAddressMap = Dictionary(
                uniqueKeysWithValues: usable.compactMap { replica in Self.address(of: replica.value).map { (replica.name, $0) } })
            spec.instance.nodeID = node
            spec.instance.desireState = .running
            spec.frontend = state.volume.spec.frontend
            spec.disableFrontend = state.volume.status.frontendDisabled
            var updated = engine.value
            updated.spec = spec
            _ = try await store.update(updated, name: engine.name, labels: engine.labels, expectedVersion: engine.resourceVersion)
            return
        }
        // 3. Attached once the engine runs (with an endpoint unless there is no frontend).
        let status = engine.value.status
        let frontendless = state.volume.status.frontendDisabled || state.volume.spec.frontend == .unset
        guard status.instance.currentState == .running, frontendless || !status.endpoint.isEmpty else {
            if status.instance.currentState == .error && state.volume.status.state == .attaching {
                // It failed to start: stopped, then started again over the replicas as they are then.
                var stopped = engine.value
                stopped.spec.instance.desireState = .stopped
                _ = try await store.update(
                    stopped, name: engine.name, labels: engine.labels, expectedVersion: engine.resourceVersion)
            }
            return
        }
        state.volume.status.state = .attached
        state.volume.status.currentNodeID = node
        state.volume.status.robustness = Self.robustness(state, engine: engine.value)
        try await markHealthyReplicas(&state, engine: engine.value, now: now)
        if state.volume.status.robustness == .degraded && state.volume.status.lastDegradedAt.isEmpty {
            state.volume.status.lastDegradedAt = now
        }
    }

    /// Replicas the engine reports ERR, or whose instance failed while wanted running, are marked
    /// failed. They are not stopped yet: the running engine may still have them.
    private func markFailedReplicas(_ state: inout VolumeState, engine: Engine, now: String) async throws {
        let engineRuns = engine.status.instance.currentState == .running
        for index in state.replicas.indices {
            let stored = state.replicas[index]
            var replica = stored.value
            guard replica.spec.failedAt.isEmpty, !replica.metadata.isBeingDeleted else { continue }
            let reportedError = engineRuns && engine.status.replicaModeMap[stored.name] == .error
            let instanceFailed =
                replica.spec.instance.desireState == .running && replica.status.currentState == .error
            guard reportedError || instanceFailed else { continue }
            replica.spec.failedAt = now
            replica.spec.lastFailedAt = now
            state.replicas[index] = try await store.update(
                replica, name: stored.name, labels: stored.labels, expectedVersion: stored.resourceVersion)
        }
    }

    /// Failed replicas leave the engine's `spec.replicaAddressMap`: the engine's instance handler
    /// then takes them out of the running engine (EngineReplicaRemoval.swift).
    private func dropFailedReplicas(_ state: VolumeState, from engine: StoredObject<Engine>) async throws
        -> StoredObject<Engine>
    {
        let failed = state.replicas.filter { !$0.value.spec.failedAt.isEmpty }.map(\.name)
        guard failed.contains(where: { engine.value.spec.replicaAddressMap[$0] != nil }) else { return engine }
        var updated = engine.value
        for name in failed { updated.spec.replicaAddressMap.removeValue(forKey: name) }
        return try await store.update(
            updated, name: engine.name, labels: engine.labels, expectedVersion: engine.resourceVersion)
    }

    /// A failed replica is stopped once the engine no longer has it (its current address map, which
    /// a stopped engine empties, does not name it).
    private func stopFailedReplicasTheEngineLetGo(_ state: VolumeState, engine: Engine) async throws {
        for replica in state.replicas
        where !replica.value.spec.failedAt.isEmpty && replica.value.spec.instance.desireState != .stopped
            && engine.status.currentReplicaAddressMap[replica.name] == nil
        {
            try await setDesire(.stopped, of: replica)
        }
    }

    /// Healthy when the engine has as many RW replicas as the volume wants, degraded with fewer,
    /// faulted with none.
    static func robustness(_ state: VolumeState, engine: Engine) -> VolumeRobustness {
        let names = Set(state.replicas.map(\.name))
        let writable = engine.status.replicaModeMap.filter { names.contains($0.key) && $0.value == .readWrite }.count
        if writable == 0 { return engine.status.replicaModeMap.isEmpty ? .healthy : .faulted }
        return writable >= state.volume.spec.numberOfReplicas ? .healthy : .degraded
    }

    /// Scheduled, not failed, not being deleted.
    static func isUsable(_ replica: Replica) -> Bool {
        !replica.spec.instance.nodeID.isEmpty && replica.spec.failedAt.isEmpty && !replica.metadata.isBeingDeleted
    }

    /// `storageIP:port` (`ip` when there is no storage IP) of a running replica.
    static func address(of replica: Replica) -> String? {
        let status = replica.status
        let ip = status.storageIP.isEmpty ? status.ip : status.storageIP
        guard status.currentState == .running, !ip.isEmpty, status.port > 0 else { return nil }
        return ip.contains(":") ? "[\(ip)]:\(status.port)" : "\(ip):\(status.port)"
    }

    // MARK: Detach

    private func detach(_ state: inout VolumeState, engine: StoredObject<Engine>) async throws {
        let volumeState = state.volume.status.state
        if volumeState == .attached || volumeState == .attaching { state.volume.status.state = .detaching }
        // 1. The engine stopped.
        if engine.value.spec.instance.desireState != .stopped || !engine.value.spec.instance.nodeID.isEmpty {
            var updated = engine.value
            updated.spec.instance.desireState = .stopped
            updated.spec.instance.nodeID = ""
            _ = try await store.update(updated, name: engine.name, labels: engine.labels, expectedVersion: engine.resourceVersion)
            return
        }
        guard Self.isStopped(engine.value.status.instance) else { return }
        // 2. Then every replica stopped.
        var waiting = false
        for replica in state.replicas {
            if replica.value.spec.instance.desireState != .stopped {
                try await setDesire(.stopped, of: replica)
                waiting = true
            } else if !Self.isStopped(replica.value.status) {
                waiting = true
            }
        }
        guard !waiting else { return }
        // 3. Detached.
        state.volume.status.state = .detached
        state.volume.status.currentNodeID = ""
        state.volume.status.currentEngineNodeID = ""
        if state.volume.status.robustness != .faulted { state.volume.status.robustness = .unknown }
    }

    static func isStopped(_ status: InstanceStatus) -> Bool {
        status.currentState == .stopped || status.currentState == .terminated
    }

    func setDesire(_ desire: InstanceState, of replica: StoredObject<Replica>) async throws {
        var updated = replica.value
        updated.spec.instance.desireState = desire
        _ = try await store.update(updated, name: replica.name, labels: replica.labels, expectedVersion: replica.resourceVersion)
    }
}
