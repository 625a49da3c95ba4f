// The instance handler (longhorn-api.md §7 "Instance handler contract", §7.3, §7.4): brings the
// Engines or the Replicas of this node to what their spec asks, on the node's instance manager of
// their data engine (InstanceServiceClient).
//
// Which resources are this node's: those scheduled here (`spec.nodeID`), those an instance
// manager of this node still runs (`status.instanceManagerName`, whatever the spec now says:
// they are stopped here), and, for deletion, those placed nowhere.
//
// One reconcile of a resource:
// - deletion asked for: the instance is deleted with `cleanup_required` (a V2 replica's lvols
//   go; a V1 process is waited for until it has exited), a V1 replica's data directory is
//   removed, then the resource is deleted from the store (compare-and-swap on its version);
// - scheduled here and `desireState` running: the instance is looked up (InstanceGet); if it is
//   missing (or a stopped V2 replica), the status is written first (owner, instance manager,
//   `starting`; an engine's `currentReplicaAddressMap` from its spec), then InstanceCreate; the
//   status then follows the instance (InstanceObservation), `started` once it runs, and an
//   engine's endpoint, size and replica modes come from the proxy, after the replicas its spec
//   no longer names are removed from it (EngineReplicaRemoval.swift). An instance that ran and
//   vanished is `error` (Longhorn's rule: the volume controller decides what to do). A V2
//   replica whose disk is not ready yet (not checked since its instance manager came up, or
//   its lvstore not loaded there yet: NotFound) is not created and not failed: it stays
//   `starting`, its InstanceCreation condition saying what it waits for, and is tried again
//   every second; a disk the node found broken is a refusal (`error`);
// - otherwise: a present instance is deleted (`cleanup_required` false for a replica, true for
//   an engine) and the status says `stopped`, with no address.
// Every status write is compare-and-swap; the status is written before an instance is created,
// so an instance never exists that the status does not name: a reconcile cut short anywhere is
// finished by the next one. An instance manager that cannot be reached makes the state `unknown`
// with an InstanceCreation condition saying so, and the reconcile throws (retried after the
// loop's backoff, or at once when the instance manager's InstanceWatch opens). Instances that
// are starting or stopping are looked at again shortly; any change an instance manager announces
// (an instance exited) has the resources whose instance changed looked at again, with the
// engines that use a changed replica.

import Foundation
import InstanceManagerAPI
import ManagerModel
import ManagerStore

/// Reconciles the instances of one kind (Replica or Engine) on this node.
struct InstanceHandler<Resource: HandledInstance>: Reconciler {
    let store: any ResourceStore
    let configuration: InstanceHandlerConfiguration
    /// The instances of this node's instance managers, by data engine (InstanceControllers runs them).
    let feeds: [DataEngine: InstanceFeed]
    let clock: @Sendable () -> Date
    /// How soon an instance that is starting or stopping is looked at again.
    static var transitionPollDelay: Duration { .milliseconds(200) }
    /// How soon an instance waiting for what it needs (InstanceCreateWait) is tried again.
    static var createRetryDelay: Duration { .seconds(1) }

    func keys() async throws -> [String] {
        try await store.list(Resource.self).items.filter { concernsThisNode($0.value) }.map(\.name)
    }

    func keys(affectedBy event: ResourceEvent) -> [String] {
        event.resource.kind == Resource.kind ? [event.resource.name] : []
    }

    /// Follows each instance manager's instances (InstanceFeed: one InstanceWatch and one list per
    /// change, shared with the other handler). On each change the list is compared with the list
    /// before: the resources whose instance appeared, went or changed are looked at again at once
    /// (and engines that name such a replica), not at the next resync or after a retry's backoff.
    /// When the stream opens or closes (the instance manager came up or went away), or a list
    /// fails, every resource of this node on its data engine is; so it is at the next change after
    /// the store could not be read.
    func watchOutside(_ add: @escaping @Sendable (String) async -> Void) async {
        await withDiscardingTaskGroup { group in
            for (engine, feed) in feeds {
                group.addTask {
                    var missed = false
                    await feed.follow { update in
                        var changed: (own: Set<String>, followed: Set<String>)?
                        if update.change == .changed, !missed, let now = update.now, let before = update.before {
                            changed = (
                                now.changedNames(ofType: Resource.instanceType, since: before),
                                now.changedNames(ofType: Resource.followedType, since: before)
                            )
                        }
                        guard let keys = try? await keys(dataEngine: engine, changed: changed) else {
                            // What changed was not queued: the next change queues everything.
                            missed = true
                            return
                        }
                        missed = false
                        for key in keys { await add(key) }
                    }
                }
            }
        }
    }

    /// This node's resources of `dataEngine`; with `changed`, only those whose instance is named
    /// there and those following a changed instance (a reconcile of a name that is not this node's
    /// resource does nothing).
    private func keys(
        dataEngine: DataEngine, changed: (own: Set<String>, followed: Set<String>)?
    ) async throws -> [String] {
        guard let changed else {
            return try await store.list(Resource.self).items
                .filter { $0.value.instance.dataEngine == dataEngine && concernsThisNode($0.value) }.map(\.name)
        }
        var keys = changed.own
        if !changed.followed.isEmpty {
            keys.formUnion(try await Resource.followers(of: changed.followed, store: store))
        }
        return keys.sorted()
    }

    private func instanceManagerName(_ resource: Resource) -> String {
        InstanceManager.name(
            nodeName: configuration.nodeName, image: configuration.image, dataEngine: resource.instance.dataEngine)
    }

    private func concernsThisNode(_ resource: Resource) -> Bool {
        let status = resource.instanceStatus
        if resource.instance.nodeID == configuration.nodeName { return true }
        if !status.instanceManagerName.isEmpty { return status.instanceManagerName == instanceManagerName(resource) }
        return resource.instance.nodeID.isEmpty && resource.metadata.isBeingDeleted
    }

    func reconcile(_ key: String) async throws {
        guard let stored = try await store.get(Resource.self, key), concernsThisNode(stored.value) else { return }
        let resource = stored.value
        let engine = resource.instance.dataEngine
        guard let address = configuration.instanceManagers[engine] else {
            var failed = resource
            InstanceObservation.markFailed(
                &failed.instanceStatus,
                message: "node \(configuration.nodeName) has no \(engine.rawValue) instance manager", now: clock())
            _ = try await write(failed, over: stored)
            return
        }
        let client = InstanceServiceClient(address: address)
        if resource.metadata.isBeingDeleted {
            try await tearDown(stored, client: client)
        } else if resource.instance.nodeID == configuration.nodeName && resource.instance.desireState == .running {
            try await run(stored, client: client)
        } else {
            try await stop(stored, client: client)
        }
    }

    // MARK: Running

    private func run(_ stored: StoredObject<Resource>, client: InstanceServiceClient) async throws {
        var current = stored
        let name = stored.name
        let engine = stored.value.instance.dataEngine
        let imName = instanceManagerName(stored.value)
        let recorded = stored.value.instanceStatus.instanceManagerName
        if !recorded.isEmpty, recorded != imName, stored.value.instanceStatus.currentState != .stopped {
            // Another instance manager (another node's) still runs it: that node stops it first.
            return
        }
        let observed = try await observe(current, client: client)
        if let observed, InstanceObservation.state(observed.status.state) != .stopped {
            try await follow(observed, current, client: client)
            return
        }
        if observed == nil, stored.value.instanceStatus.started {
            var lost = stored.value
            InstanceObservation.clearAddress(&lost.instanceStatus)
            InstanceObservation.markFailed(
                &lost.instanceStatus, message: "instance \(name) is gone from instance manager \(imName)", now: clock())
            lost.clearRunning()
            _ = try await write(lost, over: current)
            return
        }

        var starting = current.value
        starting.prepareForCreate()
        let request: Imrpc_InstanceSpec
        do {
            request = try await starting.createRequest(configuration: configuration, store: store)
        } catch let refusal as InstanceCreateRefusal {
            var refused = current.value
            InstanceObservation.markFailed(&refused.instanceStatus, message: refusal.description, now: clock())
            _ = try await write(refused, over: current)
            return
        } catch let wait as InstanceCreateWait {
            try await waitToCreate(current, wait.description)
        }
        starting.instanceStatus.ownerID = configuration.nodeName
        starting.instanceStatus.instanceManagerName = imName
        starting.instanceStatus.currentState = .starting
        starting.instanceStatus.starting = true
        current = try await write(starting, over: current)

        let created: Imrpc_InstanceResponse
        do {
            created = try await client.create(request)
        } catch {
            if starting.createWaits(after: error) {
                try await waitToCreate(
                    current, "instance manager \(imName) cannot create \(name) yet: \(error.description)")
            }
            var failed = current.value
            switch error {
            case .unreachable(let message):
                InstanceObservation.markUnreachable(&failed.instanceStatus, message: message, now: clock())
            case .refused(_, let message):
                InstanceObservation.markFailed(
                    &failed.instanceStatus,
                    message: "instance manager \(imName) did not create \(engine.rawValue) \(Resource.instanceType) \(name): \(message)",
                    now: clock())
            }
            _ = try await write(failed, over: current)
            throw error
        }
        try await follow(created, current, client: client)
    }

    /// Records that the instance waits for what it needs (not failed), and looks again later.
    private func waitToCreate(_ current: StoredObject<Resource>, _ message: String) async throws -> Never {
        var waiting = current.value
        InstanceObservation.markWaiting(&waiting.instanceStatus, message: message, now: clock())
        _ = try await write(waiting, over: current)
        throw ReconcileRequeue(after: Self.createRetryDelay, message)
    }

    /// Writes what the instance manager reports of a present instance; looks again soon while it
    /// is changing or an engine's details could not be read yet.
    private func follow(
        _ response: Imrpc_InstanceResponse, _ current: StoredObject<Resource>, client: InstanceServiceClient
    ) async throws {
        var resource = current.value
        InstanceObservation.clearUnreachable(&resource.instanceStatus, now: clock())
        InstanceObservation.apply(
            response, to: &resource.instanceStatus, instanceManagerName: instanceManagerName(resource),
            nodeName: configuration.nodeName, address: configuration.address, image: image(of: resource),
            now: clock())
        let complete = await resource.observeRunning(client: client)
        _ = try await write(resource, over: current)
        if InstanceObservation.isTransitional(response.status.state) || !complete {
            throw ReconcileRequeue(
                after: Self.transitionPollDelay, "\(Resource.instanceType) \(current.name) is \(response.status.state)")
        }
    }

    private func image(of resource: Resource) -> String {
        resource.instance.image.isEmpty ? configuration.image : resource.instance.image
    }

    // MARK: Stopping

    private func stop(_ stored: StoredObject<Resource>, client: InstanceServiceClient) async throws {
        let resource = stored.value
        let imName = instanceManagerName(resource)
        guard resource.instanceStatus.instanceManagerName == imName else {
            // Nothing of it was created here (the status names the instance manager first); one
            // another node's instance manager runs is that node's to stop.
            guard resource.instance.nodeID == configuration.nodeName, resource.instanceStatus.instanceManagerName.isEmpty
            else { return }
            var stopped = resource
            InstanceObservation.markStopped(&stopped.instanceStatus)
            stopped.clearRunning()
            _ = try await write(stopped, over: stored)
            return
        }
        var observed = try await observe(stored, client: client)
        if let present = observed, Self.needsDelete(present) {
            try await delete(stored, client: client, cleanupRequired: Resource.cleanupOnStop)
            observed = try await observe(stored, client: client)
        }
        var stopped = resource
        InstanceObservation.clearUnreachable(&stopped.instanceStatus, now: clock())
        stopped.clearRunning()
        if let observed, InstanceObservation.state(observed.status.state) != .stopped {
            InstanceObservation.apply(
                observed, to: &stopped.instanceStatus, instanceManagerName: imName, nodeName: configuration.nodeName,
                address: configuration.address, image: image(of: resource), now: clock())
            _ = try await write(stopped, over: stored)
            throw ReconcileRequeue(
                after: Self.transitionPollDelay, "\(Resource.instanceType) \(stored.name) is \(observed.status.state)")
        }
        InstanceObservation.markStopped(&stopped.instanceStatus)
        // A stopped V2 replica stays on its instance manager (its lvols): the status keeps naming it
        // while the replica is scheduled here.
        let keepsInstanceManager = observed != nil && resource.instance.nodeID == configuration.nodeName
        stopped.instanceStatus.instanceManagerName = keepsInstanceManager ? imName : ""
        _ = try await write(stopped, over: stored)
    }

    /// A present instance that is not already stopped or on its way out.
    private static func needsDelete(_ response: Imrpc_InstanceResponse) -> Bool {
        !["stopped", "stopping", "terminating"].contains(response.status.state)
    }

    // MARK: Deleting

    private func tearDown(_ stored: StoredObject<Resource>, client: InstanceServiceClient) async throws {
        let resource = stored.value
        let imName = instanceManagerName(resource)
        if resource.instanceStatus.instanceManagerName == imName {
            var observed = try await observe(stored, client: client)
            if let present = observed, !["stopping", "terminating"].contains(present.status.state) {
                try await delete(stored, client: client, cleanupRequired: true)
                observed = try await observe(stored, client: client)
            }
            if let observed {
                var leaving = resource
                InstanceObservation.apply(
                    observed, to: &leaving.instanceStatus, instanceManagerName: imName,
                    nodeName: configuration.nodeName, address: configuration.address, image: image(of: resource),
                    now: clock())
                _ = try await write(leaving, over: stored)
                throw ReconcileRequeue(
                    after: Self.transitionPollDelay,
                    "\(Resource.instanceType) \(stored.name) is \(observed.status.state) on its way out")
            }
        }
        if resource.instance.nodeID == configuration.nodeName { try resource.removeData() }
        do {
            _ = try await store.delete(Resource.self, stored.name, expectedVersion: stored.resourceVersion)
        } catch .notFound {
            return
        }
    }

    // MARK: Calls

    /// The instance as the instance manager has it; an unreachable one is recorded, then thrown.
    private func observe(
        _ stored: StoredObject<Resource>, client: InstanceServiceClient
    ) async throws -> Imrpc_InstanceResponse? {
        do {
            return try await client.get(
                name: stored.name, type: Resource.instanceType, dataEngine: stored.value.instance.dataEngine)
        } catch {
            try await record(error, stored)
            throw error
        }
    }

    private func delete(_ stored: StoredObject<Resource>, client: InstanceServiceClient, cleanupRequired: Bool)
        async throws
    {
        do {
            try await client.delete(
                name: stored.name, type: Resource.instanceType, dataEngine: stored.value.instance.dataEngine,
                diskUUID: stored.value.diskUUID, cleanupRequired: cleanupRequired)
        } catch {
            try await record(error, stored)
            throw error
        }
    }

    private func record(_ error: InstanceCallError, _ stored: StoredObject<Resource>) async throws {
        var resource = stored.value
        switch error {
        case .unreachable(let message):
            InstanceObservation.markUnreachable(&resource.instanceStatus, message: message, now: clock())
        case .refused(_, let message):
            resource.instanceStatus.conditions.setCondition(
                InstanceCondition.instanceCreation, status: .isFalse, reason: InstanceCondition.creationFailure,
                message: "instance manager \(instanceManagerName(resource)): \(message)", now: clock())
        }
        _ = try await write(resource, over: stored)
    }

    /// Writes `value` if it differs from what was read (compare-and-swap).
    private func write(_ value: Resource, over stored: StoredObject<Resource>) async throws -> StoredObject<Resource> {
        guard value != stored.value else { return stored }
        return try await store.update(value, name: stored.name, labels: stored.labels, expectedVersion: stored.resourceVersion)
    }
}
