// /v1/engineimages: the engine images. The engine is built into the one `hornbill` executable, so
// there is exactly one, the default: the image every instance manager runs
// (`InstanceManager.defaultImage`), named as Longhorn names engine images (`ei-<8 hex>`), always
// `deployed` and ready, deployed on every node in the store, compatible. Its `refCount` is the
// number of stored engines and replicas that run the image.

public import Foundation
public import Hummingbird
public import ManagerModel

public struct EngineImageRoutes: APIRouteGroup {
    public struct Configuration: Sendable {
        /// The image (what instances' `spec.image` name).
        public var image: String
        /// The node whose manager serves the API (`ownerID`).
        public var ownerID: String
        /// When the image was made available: the manager's start.
        public var created: Date
        /// The executable's version, commit and build date (empty when the build does not say).
        public var version: String
        public var gitCommit: String
        public var buildDate: String

        public init(
            image: String = InstanceManager.defaultImage, ownerID: String = "", created: Date = Date(),
            version: String = "hornbill", gitCommit: String = "", buildDate: String = ""
        ) {
            self.image = image
            self.ownerID = ownerID
            self.created = created
            self.version = version
            self.gitCommit = gitCommit
            self.buildDate = buildDate
        }
    }

    let store: any ResourceStore
    let configuration: Configuration

    public init(store: any ResourceStore, configuration: Configuration = Configuration()) {
        self.store = store
        self.configuration = configuration
    }

    public var schemas: [APISchema] { [EngineImageFields.schema] }

    /// The one engine image's name.
    public var name: String { EngineImageName.of(image: configuration.image) }

    public func addRoutes(to router: Router<BasicRequestContext>, links: @escaping @Sendable (Request) -> APILinks) {
        router.get("/v1/engineimages") { request, _ in
            let links = links(request)
            return try APIResponse.json(
                APICollection(
                    resourceType: "engineImage", selfURL: links.collection("engineImages"),
                    data: [try await resource(links: links)]))
        }
        router.get("/v1/engineimages/:name") { request, context in
            let requested = context.parameters.get("name") ?? ""
            guard requested == name else { throw APIError.notFound("engine image \(requested) not found") }
            return try APIResponse.json(try await resource(links: links(request)))
        }
    }

    private func resource(links: APILinks) async throws(APIError) -> APIResource<EngineImageFields> {
        let nodes = try await StoredDocuments.list(Node.self, store: store)
        let engines = try await StoredDocuments.list(Engine.self, store: store)
        let replicas = try await StoredDocuments.list(Replica.self, store: store)
        let references =
            engines.count(where: { $0.value.spec.image == configuration.image })
            + replicas.count(where: { $0.value.spec.image == configuration.image })
        return APIResource(
            id: name, type: "engineImage", pluralName: "engineImages",
            fields: EngineImageFields(
                name: name, configuration: configuration, nodes: nodes.map(\.name), refCount: references),
            links: links)
    }
}
