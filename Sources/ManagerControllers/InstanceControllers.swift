// The instance handlers of this node, in one value the server starts: one InstanceHandler for
// Replicas and one for Engines, each on its own ReconcileLoop, both following the node's instance
// managers through one InstanceFeed per data engine.

public import Foundation
public import Logging
public import ManagerModel

/// This node's replica and engine instance handlers.
public struct InstanceControllers: Sendable {
    let replicas: InstanceHandler<Replica>
    let engines: InstanceHandler<Engine>
    let feeds: [DataEngine: InstanceFeed]
    let store: any ResourceStore
    let options: ReconcileOptions
    let logger: Logger

    public init(
        store: any ResourceStore, configuration: InstanceHandlerConfiguration, options: ReconcileOptions = .init(),
        logger: Logger = Logger(label: "hornbill.manager.instances"),
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.options = options
        self.logger = logger
        var feeds: [DataEngine: InstanceFeed] = [:]
        for engine in DataEngine.allCases {
            guard let address = configuration.instanceManagers[engine] else { continue }
            feeds[engine] = InstanceFeed(address: address, dataEngine: engine)
        }
        self.feeds = feeds
        replicas = InstanceHandler(store: store, configuration: configuration, feeds: feeds, clock: clock)
        engines = InstanceHandler(store: store, configuration: configuration, feeds: feeds, clock: clock)
    }

    /// Runs both loops until the task is cancelled.
    public func run() async {
        let logger = self.logger
        let loops = [
            ReconcileLoop(name: "replica", store: store, reconciler: replicas, options: options) { key, error in
                logger.warning("replica instance handler: reconciling \(key) failed: \(error)")
            },
            ReconcileLoop(name: "engine", store: store, reconciler: engines, options: options) { key, error in
                logger.warning("engine instance handler: reconciling \(key) failed: \(error)")
            },
        ]
        await withDiscardingTaskGroup { group in
            for feed in feeds.values {
                group.addTask { await feed.run() }
            }
            for loop in loops { group.addTask { await loop.run() } }
        }
    }
}
