// The volume-side controllers the manager runs: volumes (VolumeController) and their attachment
// tickets (VolumeAttachmentController), each on its own ReconcileLoop. Engines and replicas are
// made to run by the instance handler of the node they are on.

public import Logging
public import ManagerModel

public struct VolumeControllers: Sendable {
    public let volumes: VolumeController
    public let attachments: VolumeAttachmentController
    let store: any ResourceStore
    let options: ReconcileOptions
    let logger: Logger

    public init(
        store: any ResourceStore, nodeName: String, options: ReconcileOptions = ReconcileOptions(),
        logger: Logger = Logger(label: "hornbill.manager.volume")
    ) {
        self.store = store
        self.options = options
        self.logger = logger
        volumes = VolumeController(store: store, configuration: .init(nodeName: nodeName))
        attachments = VolumeAttachmentController(store: store)
    }

    /// Runs both loops until the task is cancelled.
    public func run() async {
        let logger = self.logger
        let loops = [
            ReconcileLoop(name: "volume", store: store, reconciler: volumes, options: options) { key, error in
                logger.warning("volume controller: reconciling \(key) failed: \(error)")
            },
            ReconcileLoop(name: "volume-attachment", store: store, reconciler: attachments, options: options) {
                key, error in
                logger.warning("volume-attachment controller: reconciling \(key) failed: \(error)")
            },
        ]
        await withDiscardingTaskGroup { group in
            for loop in loops { group.addTask { await loop.run() } }
        }
    }
}
