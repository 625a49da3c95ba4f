// What an instance manager runs, as its InstanceManager resource shows it (longhorn-api.md §1.7):
// InstanceService.InstanceList's instances of the resource's data engine, engines in
// `instanceEngines`, replicas in `instanceReplicas`, both in the older `instances`. Instances of
// other types (engine frontends, shards) have no map here and are left out. The instance states
// SPDK reports in passing (`pending`, `terminating`) are shown as `error`, as Longhorn's manager
// does; a state this manager does not know is `unknown`.

import InstanceManagerAPI
import ManagerModel

/// An instance manager's instances of one data engine, by type.
struct InstanceManagerInstances: Sendable, Equatable {
    var engines: [String: InstanceProcess] = [:]
    var replicas: [String: InstanceProcess] = [:]

    /// The instances of `engine` in an InstanceList answer.
    init(_ list: Imrpc_InstanceListResponse, engine: DataEngine) {
        for (key, instance) in list.instances where instance.spec.dataEngine == engine.rpcValue && !instance.deleted {
            let name = instance.spec.name.isEmpty ? key : instance.spec.name
            switch InstanceType(rawValue: instance.spec.type) {
            case .engine: engines[name] = Self.process(instance, name: name, engine: engine, type: .engine)
            case .replica: replicas[name] = Self.process(instance, name: name, engine: engine, type: .replica)
            default: continue
            }
        }
    }

    init() {}

    /// The instances of one type ("engine", "replica"), by name.
    subscript(type: String) -> [String: InstanceProcess] {
        switch InstanceType(rawValue: type) {
        case .engine: engines
        case .replica: replicas
        default: [:]
        }
    }

    /// The names of `type` whose instance appeared, went or changed from `earlier` to `self`.
    func changedNames(ofType type: String, since earlier: InstanceManagerInstances) -> Set<String> {
        let now = self[type]
        let before = earlier[type]
        var names = Set<String>()
        for (name, process) in now where before[name] != process { names.insert(name) }
        for name in before.keys where now[name] == nil { names.insert(name) }
        return names
    }

    /// Writes the maps into an instance manager's status.
    func apply(to status: inout InstanceManagerStatus) {
        status.instanceEngines = engines
        status.instanceReplicas = replicas
        status.instances = engines.merging(replicas) { engine, _ in engine }
    }

    private static func process(
        _ instance: Imrpc_InstanceResponse, name: String, engine: DataEngine, type: InstanceType
    ) -> InstanceProcess {
        let reported = instance.status
        var status = InstanceProcessStatus()
        status.endpoint = reported.endpoint
        status.frontend = reported.frontend
        status.activePath = reported.activePath
        status.preferredPath = reported.preferredPath
        status.errorMsg = reported.errorMsg
        status.conditions = reported.conditions
        status.portStart = reported.portStart
        status.portEnd = reported.portEnd
        status.targetPortStart = reported.targetPortStart
        status.targetPortEnd = reported.targetPortEnd
        status.state = state(reported.state)
        status.type = type
        status.ublkID = reported.ublkID
        status.uuid = reported.uuid
        return InstanceProcess(spec: InstanceProcessSpec(name: name, dataEngine: engine), status: status)
    }

    static func state(_ reported: String) -> InstanceState {
        switch reported {
        case "pending", "terminating": .error
        default: InstanceState(rawValue: reported) ?? .unknown
        }
    }
}

extension DataEngine {
    /// The engine's value in the instance manager's API.
    var rpcValue: Imrpc_DataEngine {
        switch self {
        case .v1: .v1
        case .v2: .v2
        }
    }
}
