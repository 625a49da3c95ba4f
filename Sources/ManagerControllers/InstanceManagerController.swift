// The instance-manager controller of this node: one InstanceManager resource per data engine this
// node runs an instance manager for (longhorn-api.md §1.7), the V2 one only while the setting
// `v2-data-engine` is true (deleted when it turns false).
//
// Each reconcile creates the resource if it is missing (spec: image, nodeID, type aio, data engine),
// probes the instance manager (InstanceManagerProbe) and writes the status, if it changed, with
// compare-and-swap: `running` with the API versions VersionGet reports and the instances
// InstanceList reports (InstanceManagerInstances), `stopped` when nothing answers at its address,
// `error` when it answers but is not serving; an instance manager that does not run shows no
// instances. Each instance manager's InstanceWatch stream (InstanceManagerWatch) queues its
// resource when an instance changes, at most every 500 ms; the periodic resync is what notices a
// process that died and any change a watch missed.

public import Foundation
import InstanceManagerAPI
public import ManagerModel
import ManagerStore
import Synchronization

/// Reconciles this node's InstanceManager resources.
public struct InstanceManagerController: Reconciler {
    public struct Configuration: Sendable {
        public var nodeName: String
        /// The node's address: the instance managers' `status.ip`.
        public var address: String
        public var instanceManagers: InstanceManagerAddresses
        public var image: String

        public init(
            nodeName: String, address: String, instanceManagers: InstanceManagerAddresses,
            image: String = InstanceManager.defaultImage
        ) {
            self.nodeName = nodeName
            self.address = address
            self.instanceManagers = instanceManagers
            self.image = image
        }
    }

    let store: any ResourceStore
    let configuration: Configuration
    let clock: @Sendable () -> Date
    /// The resources as this controller last read or wrote them.
    private let known = KnownResources()

    public init(
        store: any ResourceStore, configuration: Configuration, clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
    }

    /// The name of this node's instance manager of `engine`.
    public func name(of engine: DataEngine) -> String {
        InstanceManager.name(nodeName: configuration.nodeName, image: configuration.image, dataEngine: engine)
    }

    /// The engines this node has an instance manager address for, by resource name.
    private var engines: [String: DataEngine] {
        var engines: [String: DataEngine] = [:]
        for engine in DataEngine.allCases where configuration.instanceManagers[engine] != nil {
            engines[name(of: engine)] = engine
        }
        return engines
    }

    public func keys() async throws -> [String] { engines.keys.sorted() }

    public func keys(affectedBy event: ResourceEvent) -> [String] {
        switch event.resource.kind {
        case .settings where event.resource.name == SettingName.v2DataEngine: engines.keys.sorted()
        case .instanceManagers where engines[event.resource.name] != nil:
            // Its own writes come back as events: nothing to do for them.
            event.change != .deleted && known.version(of: event.resource.name) == event.revision
                ? [] : [event.resource.name]
        default: []
        }
    }

    public func reconcile(_ key: String) async throws {
        guard let engine = engines[key], let address = configuration.instanceManagers[engine] else { return }
        if engine == .v2, !(try await SettingValues(store: store).bool(SettingName.v2DataEngine)) {
            if let stored = try await store.get(InstanceManager.self, key) {
                do {
                    _ = try await store.delete(InstanceManager.self, key, expectedVersion: stored.resourceVersion)
                } catch .notFound {
                    return
                }
            }
            return
        }
        let stored = try await existingOrNew(key, engine: engine)
        let probe = await InstanceManagerProbe.probe(address, engine: engine)
        var status = stored.value.status
        probe.instances.apply(to: &status)
        status.ownerID = configuration.nodeName
        status.ip = configuration.address
        status.currentState = probe.state
        if let version = probe.version {
            status.apiVersion = Int(clamping: version.instanceManagerApiversion)
            status.apiMinVersion = Int(clamping: version.instanceManagerApiminVersion)
            status.proxyApiVersion = Int(clamping: version.instanceManagerProxyApiversion)
            status.proxyApiMinVersion = Int(clamping: version.instanceManagerProxyApiminVersion)
        }
        guard status != stored.value.status else { return }
        var updated = stored.value
        updated.status = status
        known.keep(
            try await store.updateKeepingValue(
                updated, name: key, labels: stored.labels, expectedVersion: stored.resourceVersion))
    }

    /// Follows every instance manager's InstanceWatch stream, queueing its resource on a change,
    /// at most once per `instanceListInterval`: each reconcile lists every instance of the node
    /// and writes them all, and an attach changes several instances within a few milliseconds.
    /// Nothing waits on this copy (the instance handlers ask the instance managers themselves).
    public func watchOutside(_ add: @escaping @Sendable (String) async -> Void) async {
        await withDiscardingTaskGroup { group in
            for (key, engine) in engines {
                guard let address = configuration.instanceManagers[engine] else { continue }
                group.addTask {
                    let lastQueued = LastQueued()
                    await InstanceManagerWatch.run(address, retryDelay: Self.watchRetryDelay) { _ in
                        // Changes that come meanwhile wait in the stream and are seen by this reconcile.
                        let clock = ContinuousClock()
                        if let last = lastQueued.instant.withLock({ $0 }) {
                            try? await clock.sleep(until: last + Self.instanceListInterval)
                        }
                        lastQueued.instant.withLock { $0 = clock.now }
                        await add(key)
                    }
                }
            }
        }
    }

    /// The InstanceManagers as last read or written here: the status lists every instance of the
    /// node, and decoding it again on each reconcile was most of what a reconcile cost. A copy
    /// serves only while the store still holds that very version.
    private final class KnownResources: Sendable {
        private let objects = Mutex<[String: StoredObject<InstanceManager>]>([:])

        func version(of name: String) -> Int64? { objects.withLock { $0[name]?.resourceVersion } }

        func keep(_ object: StoredObject<InstanceManager>) { objects.withLock { $0[object.name] = object } }

        /// The stored resource, decoded unless it is the version kept.
        func object(_ stored: StoredResource) throws -> StoredObject<InstanceManager> {
            if let kept = objects.withLock({ $0[stored.name] }), kept.resourceVersion == stored.resourceVersion {
                return kept
            }
            let object = try StoredObject<InstanceManager>(stored)
            keep(object)
            return object
        }
    }

    /// When a watch last queued its resource.
    private final class LastQueued: Sendable {
        let instant = Mutex<ContinuousClock.Instant?>(nil)
    }

    /// How long a watch whose instance manager does not answer waits before it tries again.
    static let watchRetryDelay: Duration = .seconds(1)
    /// The shortest time between two reconciles a watch queues.
    static let instanceListInterval: Duration = .milliseconds(500)

    private func existingOrNew(_ name: String, engine: DataEngine) async throws -> StoredObject<InstanceManager> {
        if let stored = try await store.get(.instanceManagers, name: name) { return try known.object(stored) }
        let manager = InstanceManager(
            metadata: ResourceMetadata(
                name: name, labels: Self.labels(node: configuration.nodeName, engine: engine),
                creationTimestamp: KubernetesTime.format(clock())),
            spec: InstanceManagerSpec(image: configuration.image, nodeID: configuration.nodeName, dataEngine: engine))
        do {
            return try await store.create(manager, name: name, labels: manager.metadata.labels)
        } catch .alreadyExists {
            guard let stored = try await store.get(InstanceManager.self, name) else {
                throw ResourceStoreError.notFound(kind: .instanceManagers, name: name)
            }
            return stored
        }
    }

    /// Longhorn's instance manager labels, which lists select on.
    static func labels(node: String, engine: DataEngine) -> [String: String] {
        [
            "longhorn.io/component": "instance-manager", "longhorn.io/node": node,
            "longhorn.io/instance-manager-type": "aio", "longhorn.io/data-engine": engine.rawValue,
        ]
    }
}
