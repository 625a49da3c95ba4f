// Everything a node's manager reconciles for the node itself, in one value the server starts:
// the Node resource with its disks (NodeController) and the InstanceManager resources
// (InstanceManagerController), each on its own ReconcileLoop.

public import Logging
public import ManagerModel

/// This node's controllers.
public struct NodeControllers: Sendable {
    public let node: NodeController
    public let instanceManagers: InstanceManagerController
    let store: any ResourceStore
    let options: ReconcileOptions
    let logger: Logger

    /// - Parameters:
    ///   - nodeName: this node's name (the Node resource's name).
    ///   - address: the node's address (the instance managers' `status.ip`).
    ///   - dataDirectory: where the default disk is made (`<dataDirectory>/disks/default`).
    ///   - instanceManagers: where this node's V1 and V2 instance managers listen.
    public init(
        store: any ResourceStore, nodeName: String, address: String, dataDirectory: String,
        instanceManagers: InstanceManagerAddresses, options: ReconcileOptions = ReconcileOptions(),
        logger: Logger = Logger(label: "hornbill.manager.node")
    ) {
        self.store = store
        self.options = options
        self.logger = logger
        node = NodeController(
            store: store,
            configuration: .init(nodeName: nodeName, dataDirectory: dataDirectory, instanceManagers: instanceManagers))
        self.instanceManagers = InstanceManagerController(
            store: store, configuration: .init(nodeName: nodeName, address: address, instanceManagers: instanceManagers)
        )
    }

    /// Runs both loops until the task is cancelled.
    public func run() async {
        let logger = self.logger
        let loops = [
            ReconcileLoop(name: "node", store: store, reconciler: node, options: options) { key, error in
                logger.warning("node controller: reconciling \(key) failed: \(error)")
            },
            ReconcileLoop(name: "instance-manager", store: store, reconciler: instanceManagers, options: options) {
                key, error in
                logger.warning("instance-manager controller: reconciling \(key) failed: \(error)")
            },
        ]
        await withDiscardingTaskGroup { group in
            for loop in loops { group.addTask { await loop.run() } }
        }
    }
}
