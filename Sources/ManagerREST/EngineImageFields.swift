// The engine image's fields in its API resource (Longhorn's EngineImage: name, image, default, and
// the status inlined: state, refCount, noRefSince, conditions as a list, nodeDeploymentMap,
// incompatible, and the engine's versions).

import Foundation
import ManagerModel

struct EngineImageFields: Encodable, Sendable {
    /// The API versions of the engine built in: those of Longhorn's engine that this engine's
    /// command line, controller protocol and on-disk format follow.
    enum Versions {
        static let cliAPI = 9
        static let cliAPIMin = 3
        static let controllerAPI = 5
        static let controllerAPIMin = 3
        static let dataFormat = 1
        static let dataFormatMin = 1
    }

    var name: String
    var image: String
    var `default` = true
    var ownerID: String
    var state = "deployed"
    var refCount: Int
    var noRefSince = ""
    var conditions: [Condition]
    var nodeDeploymentMap: [String: Bool]
    var incompatible = false
    var created: String
    var version: String
    var gitCommit: String
    var buildDate: String
    var cliAPIVersion = Versions.cliAPI
    var cliAPIMinVersion = Versions.cliAPIMin
    var controllerAPIVersion = Versions.controllerAPI
    var controllerAPIMinVersion = Versions.controllerAPIMin
    var dataFormatVersion = Versions.dataFormat
    var dataFormatMinVersion = Versions.dataFormatMin

    init(name: String, configuration: EngineImageRoutes.Configuration, nodes: [String], refCount: Int) {
        self.name = name
        image = configuration.image
        ownerID = configuration.ownerID
        self.refCount = refCount
        let created = KubernetesTime.format(configuration.created)
        self.created = created
        conditions = [Condition(type: "ready", status: .isTrue, lastTransitionTime: created)]
        nodeDeploymentMap = Dictionary(uniqueKeysWithValues: nodes.map { ($0, true) })
        version = configuration.version
        gitCommit = configuration.gitCommit
        buildDate = configuration.buildDate
    }

    static let schema = APISchema(
        id: "engineImage", pluralName: "engineImages", collectionMethods: ["GET"], resourceMethods: ["GET"],
        resourceFields: [
            "name": .init("string"), "image": .init("string"), "default": .init("boolean"),
            "ownerID": .init("string"), "state": .init("string"), "refCount": .init("int"),
            "noRefSince": .init("string"), "conditions": .init("array[json]"),
            "nodeDeploymentMap": .init("map[boolean]"), "incompatible": .init("boolean"),
            "created": .init("string"), "version": .init("string"), "gitCommit": .init("string"),
            "buildDate": .init("string"), "cliAPIVersion": .init("int"), "cliAPIMinVersion": .init("int"),
            "controllerAPIVersion": .init("int"), "controllerAPIMinVersion": .init("int"),
            "dataFormatVersion": .init("int"), "dataFormatMinVersion": .init("int"),
        ])
}
