// /v1/supportbundles: Longhorn's support bundles (SupportBundles makes them).
//
// `POST /v1/supportbundles` with `{"issueURL", "description"}` (both optional) starts one and
// returns it `Generating`; `GET /v1/supportbundles[/<name>]` and Longhorn's
// `GET /v1/supportbundles/<name>/<bundleName>` (the bundle name repeated) show it;
// `GET /v1/supportbundles/<name>/<bundleName>/download` returns the zip once it is
// `ReadyForDownload` (409 before); `DELETE /v1/supportbundles/<name>` removes a finished one.

public import Hummingbird
import NIOCore

public struct SupportBundleRoutes: APIRouteGroup {
    let bundles: SupportBundles

    public init(bundles: SupportBundles) { self.bundles = bundles }

    public var schemas: [APISchema] { [SupportBundleFields.schema, SupportBundleFields.inputSchema] }

    public func addRoutes(to router: Router<BasicRequestContext>, links: @escaping @Sendable (Request) -> APILinks) {
        router.get("/v1/supportbundles") { request, _ in
            let links = links(request)
            return try APIResponse.json(
                APICollection(
                    resourceType: "supportBundle", selfURL: links.collection("supportBundles"),
                    data: await bundles.list().map { Self.resource($0, links: links) }))
        }
        router.post("/v1/supportbundles") { request, _ in
            let input = try await APIRequestBody.decode(Input.self, from: request)
            let issueURL = try Self.text(input.issueURL, field: "issueURL")
            let description = try Self.text(input.description, field: "description")
            let bundle = try await bundles.start(issueURL: issueURL, description: description)
            return try APIResponse.json(Self.resource(bundle, links: links(request)))
        }
        router.get("/v1/supportbundles/:name") { request, context in
            try APIResponse.json(Self.resource(try await bundle(context), links: links(request)))
        }
        router.delete("/v1/supportbundles/:name") { _, context in
            try await bundles.delete(context.parameters.get("name") ?? "")
            return Response(status: .ok)
        }
        router.get("/v1/supportbundles/:name/:bundleName") { request, context in
            try APIResponse.json(Self.resource(try await bundle(context, repeated: true), links: links(request)))
        }
        router.get("/v1/supportbundles/:name/:bundleName/download") { _, context in
            let found = try await bundle(context, repeated: true)
            let file = try await bundles.download(found.name)
            var headers = HTTPFields()
            headers[.contentType] = "application/zip"
            headers[.contentDisposition] = "attachment; filename=\(file.fileName)"
            return Response(
                status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: file.data)))
        }
    }

    private struct Input: Decodable {
        var issueURL: String?
        var description: String?
    }

    private static func text(_ value: String?, field: String) throws(APIError) -> String {
        let value = value ?? ""
        guard value.utf8.count <= ManagerRESTLimits.supportBundleTextBytesMax else {
            throw .badRequest("\(field) is longer than \(ManagerRESTLimits.supportBundleTextBytesMax) bytes")
        }
        return value
    }

    /// The bundle a path names; with `repeated`, `<name>/<bundleName>` must name it twice.
    private func bundle(
        _ context: BasicRequestContext, repeated: Bool = false
    ) async throws(APIError)
        -> SupportBundles.Bundle
    {
        let name = context.parameters.get("name") ?? ""
        if repeated, let bundleName = context.parameters.get("bundleName"), bundleName != name {
            throw .notFound("support bundle \(name)/\(bundleName) not found")
        }
        guard let bundle = await bundles.bundle(named: name) else {
            throw .notFound("support bundle \(name) not found")
        }
        return bundle
    }

    private static func resource(_ bundle: SupportBundles.Bundle, links: APILinks) -> APIResource<SupportBundleFields> {
        APIResource(
            id: bundle.name, type: "supportBundle", pluralName: "supportBundles", fields: SupportBundleFields(bundle),
            links: links)
    }
}

/// A support bundle's fields in its API resource.
struct SupportBundleFields: Encodable, Sendable {
    var name: String
    var nodeID: String
    var state: String
    var progressPercentage: Int
    var errorMessage: String
    var fileName: String
    var fileSize: Int
    var issueURL: String
    var description: String
    var created: String

    init(_ bundle: SupportBundles.Bundle) {
        name = bundle.name
        nodeID = bundle.nodeID
        state = bundle.state.rawValue
        progressPercentage = bundle.progressPercentage
        errorMessage = bundle.errorMessage
        fileName = bundle.fileName
        fileSize = bundle.fileSize
        issueURL = bundle.issueURL
        description = bundle.description
        created = bundle.created
    }

    static let schema = APISchema(
        id: "supportBundle", pluralName: "supportBundles", collectionMethods: ["GET", "POST"],
        resourceMethods: ["GET", "DELETE"],
        resourceFields: [
            "name": .init("string"), "nodeID": .init("string"), "state": .init("string"),
            "progressPercentage": .init("int"), "errorMessage": .init("string"), "fileName": .init("string"),
            "fileSize": .init("int"), "issueURL": .init("string", create: true),
            "description": .init("string", create: true), "created": .init("string"),
        ])

    static let inputSchema = APISchema(
        id: "supportBundleInitateInput", pluralName: "supportBundleInitateInputs", collectionMethods: [],
        resourceMethods: [],
        resourceFields: ["issueURL": .init("string"), "description": .init("string")])
}
