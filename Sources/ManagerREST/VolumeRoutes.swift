// /v1/volumes and /v1/volumeattachments; /v1/ws/volumes streams the volumes.
//
// `POST /v1/volumes` creates a volume (VolumeCreation: Longhorn's defaults and checks) and its
// VolumeAttachment (named like it, no tickets); the controllers take it from `creating`.
// `DELETE /v1/volumes/<name>` asks for its deletion (metadata.deletionTimestamp): the volume
// controller stops and deletes what it owns in order, then the volume. Actions
// (`POST /v1/volumes/<name>?action=…`): `attach` and `detach` add and remove attachment tickets
// (the attachment controller picks the one that wins), `updateReplicaCount` stores the count,
// `salvage` (a faulted, detached volume) clears the failure of the replicas named. Every write is
// compare-and-swap on the version read, tried again on a lost race.

import Foundation
public import Hummingbird
public import ManagerModel

public struct VolumeRoutes: APIRouteGroup {
    let store: any ResourceStore

    public init(store: any ResourceStore) { self.store = store }

    public var schemas: [APISchema] { [VolumeFields.schema, AttachmentSchemas.volumeAttachment] + VolumeFields.inputSchemas }

    public var streams: [APIStream] {
        [
            APIStream(
                name: "volumes", store: store, kinds: [.volumes, .engines, .replicas, .volumeAttachments],
                collection: collection(links:))
        ]
    }

    public func addRoutes(to router: Router<BasicRequestContext>, links: @escaping @Sendable (Request) -> APILinks) {
        router.get("/v1/volumes") { request, _ in
            try APIResponse.json(try await collection(links: links(request)))
        }
        router.get("/v1/volumes/:name") { request, context in
            try APIResponse.json(resource(try await view(try Self.name(context)), links: links(request)))
        }
        router.post("/v1/volumes") { request, _ in
            let body = try await APIRequestBody.decode(VolumeCreateRequest.self, from: request)
            let volume = try await create(body)
            return try APIResponse.json(
                resource(VolumeView(volume: volume, engines: [], replicas: [], attachment: nil), links: links(request)))
        }
        router.delete("/v1/volumes/:name") { request, context in
            let name = try Self.name(context)
            _ = try await StoredAccess(store: store).modify(Volume.self, name) { volume throws(APIError) in
                if !volume.metadata.isBeingDeleted {
                    volume.metadata.deletionTimestamp = ISO8601DateFormatter().string(from: Date())
                }
            }
            return try APIResponse.json(resource(try await view(name), links: links(request)))
        }
        router.post("/v1/volumes/:name") { request, context in
            let name = try Self.name(context)
            let action = request.uri.queryParameters.get("action") ?? ""
            let actions = VolumeActions(store: store)
            switch action {
            case "attach": try await actions.attach(name, try await APIRequestBody.decode(AttachInput.self, from: request))
            case "detach": try await actions.detach(name, try await Self.optionalBody(DetachInput.self, request))
            case "updateReplicaCount":
                try await actions.updateReplicaCount(
                    name, try await APIRequestBody.decode(UpdateReplicaCountInput.self, from: request))
            case "salvage": try await actions.salvage(name, try await APIRequestBody.decode(SalvageInput.self, from: request))
            default:
                throw APIError.badRequest(
                    "volume action \"\(action)\" is not supported: the volume's actions are attach, detach, salvage and updateReplicaCount")
            }
            return try APIResponse.json(resource(try await view(name), links: links(request)))
        }
        router.get("/v1/volumeattachments") { request, _ in
            let links = links(request)
            let attachments = try await StoredDocuments.list(VolumeAttachment.self, store: store)
            return try APIResponse.json(
                APICollection(
                    resourceType: "volumeAttachment", selfURL: links.collection("volumeattachments"),
                    data: attachments.map { AttachmentSchemas.resource($0.value, links: links) }))
        }
        router.get("/v1/volumeattachments/:name") { request, context in
            let name = context.parameters.get("name") ?? ""
            guard let stored = try await StoredAccess(store: store).read(VolumeAttachment.self, name) else {
                throw APIError.notFound("volume attachment \(name) not found")
            }
            return try APIResponse.json(AttachmentSchemas.resource(stored.value, links: links(request)))
        }
    }

    private static func name(_ context: BasicRequestContext) throws(APIError) -> String {
        let name = context.parameters.get("name") ?? ""
        guard !name.isEmpty else { throw APIError.notFound("volume \"\" not found") }
        return name
    }

    /// A body that may be absent (detach): its zero value then.
    private static func optionalBody<T: Decodable & EmptyInitializable>(
        _ type: T.Type, _ request: Request
    ) async throws(APIError) -> T {
        guard let length = request.headers[.contentLength].flatMap(Int.init), length == 0 else {
            do {
                return try await APIRequestBody.decode(T.self, from: request)
            } catch where error.message.contains("the request body is empty") {
                return T()
            }
        }
        return T()
    }

    private func resource(_ view: VolumeView, links: APILinks) -> APIResource<VolumeFields> {
        APIResource(
            id: view.volume.metadata.name, type: "volume", pluralName: "volumes",
            actions: VolumeFields.actions(view.volume), fields: VolumeFields(view), links: links)
    }

    private func create(_ request: VolumeCreateRequest) async throws(APIError) -> Volume {
        let access = StoredAccess(store: store)
        let context = VolumeCreationContext(
            v2DataEngineEnabled: try await access.settingValue("v2-data-engine") == "true",
            defaultReplicaCount: try await access.defaultReplicaCount())
        let volume: Volume
        do {
            volume = try VolumeCreation.volume(from: request, context: context)
        } catch {
            throw APIError(error.forbidden ? .forbidden : .badRequest, error.message)
        }
        if !volume.spec.diskSelector.isEmpty || !volume.spec.nodeSelector.isEmpty {
            let nodes = try await access.list(Node.self, .everything)
            do {
                try VolumeCreation.refuseUnknownTags(
                    volume.spec, diskTags: Set(nodes.flatMap { $0.spec.disks.values.flatMap(\.tags) }),
                    nodeTags: Set(nodes.flatMap(\.spec.tags)))
            } catch {
                throw APIError.badRequest(error.message)
            }
        }
        let name = volume.metadata.name
        let document = try StoredDocuments.encode(volume, name: name)
        do {
            _ = try await store.create(.volumes, name: name, labels: [:], document: document)
        } catch .alreadyExists {
            throw APIError.conflict("volume \(name) already exists")
        } catch {
            throw APIError(error)
        }
        // Its attachment, without tickets (a leftover of an earlier volume of that name is reused).
        try await VolumeActions(store: store).ensureAttachment(name)
        return volume
    }

    /// A volume and what it owns.
    private func view(_ name: String) async throws(APIError) -> VolumeView {
        let access = StoredAccess(store: store)
        guard let volume = try await access.read(Volume.self, name)?.value else {
            throw APIError.notFound("volume \(name) not found")
        }
        let owned = ResourceSelector(labels: ["longhornvolume": name])
        return VolumeView(
            volume: volume, engines: try await access.list(Engine.self, owned).filter { $0.spec.instance.volumeName == name },
            replicas: try await access.list(Replica.self, owned).filter { $0.spec.instance.volumeName == name },
            attachment: try await access.read(VolumeAttachment.self, name)?.value)
    }

    /// Every volume, in the collection envelope.
    private func collection(links: APILinks) async throws(APIError) -> APICollection<APIResource<VolumeFields>> {
        let access = StoredAccess(store: store)
        let volumes = try await StoredDocuments.list(Volume.self, store: store)
        let engines = Dictionary(grouping: try await access.list(Engine.self, .everything), by: \.spec.instance.volumeName)
        let replicas = Dictionary(
            grouping: try await access.list(Replica.self, .everything), by: \.spec.instance.volumeName)
        let attachments = Dictionary(
            try await StoredDocuments.list(VolumeAttachment.self, store: store).map { ($0.name, $0.value) },
            uniquingKeysWith: { first, _ in first })
        return APICollection(
            resourceType: "volume", selfURL: links.collection("volumes"),
            data: volumes.map { name, volume in
                resource(
                    VolumeView(
                        volume: volume, engines: engines[name] ?? [], replicas: replicas[name] ?? [],
                        attachment: attachments[name]),
                    links: links)
            })
    }
}

/// A request body type whose absence means its zero value.
protocol EmptyInitializable { init() }

struct AttachInput: Decodable {
    var hostId: String?
    var disableFrontend: Bool?
    var attachedBy: String?
    var attacherType: String?
    var attachmentID: String?
}

struct DetachInput: Decodable, EmptyInitializable {
    var attachmentID: String?
    var hostId: String?
    var forceDetach: Bool?
    init() {}
}

struct UpdateReplicaCountInput: Decodable {
    var replicaCount: Int?
}

struct SalvageInput: Decodable {
    var names: [String]?
}
