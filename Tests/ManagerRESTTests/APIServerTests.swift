import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ManagerREST
import NIOCore
import Testing

/// The API frame on a live loopback server: schemas, root, errors, bodies, authentication.
@Suite struct APIServerTests {
    /// A route group whose one route reads a JSON body with the API's body reader and echoes it.
    private struct EchoRoutes: APIRouteGroup {
        struct Echo: Codable, Sendable {
            var name: String
            var count: Int?
        }

        var schemas: [APISchema] {
            [
                APISchema(
                    id: "echo", pluralName: "echoes", collectionMethods: ["GET", "POST"],
                    resourceFields: ["name": .init("string", create: true)])
            ]
        }

        func addRoutes(to router: Router<BasicRequestContext>, links: @escaping @Sendable (Request) -> APILinks) {
            router.post("/v1/echoes") { request, _ in
                let echo = try await APIRequestBody.decode(Echo.self, from: request)
                let resource = APIResource(
                    id: echo.name, type: "echo", pluralName: "echoes", fields: echo, links: links(request))
                let data = try JSONEncoder().encode(resource)
                return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
            }
        }
    }

    private func withServer(
        token: String? = nil, _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let api = ManagerAPI(groups: [EchoRoutes()], configuration: .init(bearerToken: token))
        try await api.makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in try await test(client) }
    }

    private static let basicEmpty: HTTPFields = [.authorization: "Basic Og==", .accept: "application/json"]

    @Test func schemasListEveryTypeWithItsCollection() async throws {
        try await withServer { client in
            let response = try await client.execute(uri: "/v1/schemas", method: .get, headers: Self.basicEmpty)
            #expect(response.status == .ok)
            #expect(response.headers[HTTPField.Name("X-API-Schemas")!] == "http://localhost/v1/schemas")
            let json = try JSONObject(Data(response.body.readableBytesView))
            #expect(json.string("type") == "collection")
            #expect(json.string("resourceType") == "schema")
            let schemas = try #require(json.objects("data"))
            #expect(Set(schemas.compactMap { $0.string("id") }) == ["schema", "error", "echo"])
            let echo = try #require(schemas.first { $0.string("id") == "echo" })
            #expect(echo.string("type") == "schema")
            #expect(echo.string("pluralName") == "echoes")
            #expect(echo["collectionMethods"] as? [String] == ["GET", "POST"])
            #expect(echo.object("links")?.string("collection") == "http://localhost/v1/echoes")
            #expect(echo.object("resourceFields")?.object("name")?.string("type") == "string")
        }
    }

    @Test func aSchemaByIDAndAnUnknownOne() async throws {
        try await withServer { client in
            let echo = try await client.execute(uri: "/v1/schemas/echo", method: .get)
            #expect(echo.status == .ok)
            #expect(try JSONObject(Data(echo.body.readableBytesView)).string("id") == "echo")
            let unknown = try await client.execute(uri: "/v1/schemas/backupTarget", method: .get)
            #expect(unknown.status == .notFound)
            let error = try JSONObject(Data(unknown.body.readableBytesView))
            #expect(error.string("type") == "error")
            #expect(error.int("status") == 404)
            #expect(error.string("code") == "Not Found")
            #expect(error.string("message")?.contains("backupTarget") == true)
        }
    }

    @Test func theRootLinksEveryCollection() async throws {
        try await withServer { client in
            let response = try await client.execute(uri: "/v1", method: .get)
            #expect(response.status == .ok)
            let json = try JSONObject(Data(response.body.readableBytesView))
            #expect(json.string("type") == "apiVersion")
            #expect(json.object("links")?.string("echoes") == "http://localhost/v1/echoes")
            #expect(json.object("links")?.string("schemas") == "http://localhost/v1/schemas")
        }
    }

    @Test func anUnknownPathOrMethodIsA404Envelope() async throws {
        try await withServer { client in
            for (uri, method) in [("/v1/nothing-here", HTTPRequest.Method.get), ("/v1/echoes", .delete)] {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.status == .notFound)
                #expect(response.headers[HTTPField.Name("X-API-Schemas")!] != nil)
                let json = try JSONObject(Data(response.body.readableBytesView))
                #expect(json.string("type") == "error")
                #expect(json.int("status") == 404)
            }
        }
    }

    @Test func aBodyIsReadWithoutContentTypeAndUnknownFieldsAreIgnored() async throws {
        try await withServer { client in
            let body = ByteBuffer(string: #"{"name":"a","count":2,"links":{"self":"x"},"extra":[1,2]}"#)
            let response = try await client.execute(
                uri: "/v1/echoes", method: .post, headers: Self.basicEmpty, body: body)
            #expect(response.status == .ok)
            let json = try JSONObject(Data(response.body.readableBytesView))
            #expect(json.string("id") == "a")
            #expect(json.int("count") == 2)
            #expect(json.object("links")?.string("self") == "http://localhost/v1/echoes/a")
        }
    }

    @Test func aMalformedBodyIsA400WithTheReason() async throws {
        try await withServer { client in
            let cases: [(String, String)] = [
                (#"{"name":"a""#, "malformed JSON"),
                (#"{"count":1}"#, "has no member name"),
                (#"{"name":7}"#, "field name is not of type String"),
                ("", "empty"),
            ]
            for (body, reason) in cases {
                let response = try await client.execute(
                    uri: "/v1/echoes", method: .post, body: ByteBuffer(string: body))
                #expect(response.status == .badRequest, "\(body)")
                let json = try JSONObject(Data(response.body.readableBytesView))
                #expect(json.string("code") == "Bad Request")
                #expect(json.string("message")?.contains(reason) == true, "\(body): \(json.string("message") ?? "")")
            }
        }
    }

    @Test func aBodyOverTheLimitIs413() async throws {
        try await withServer { client in
            let name = String(repeating: "x", count: (1 << 20) + 16)
            let response = try await client.execute(
                uri: "/v1/echoes", method: .post, body: ByteBuffer(string: #"{"name":"\#(name)"}"#))
            #expect(response.status == .contentTooLarge)
            let json = try JSONObject(Data(response.body.readableBytesView))
            #expect(json.string("type") == "error")
            #expect(json.int("status") == 413)
        }
    }

    @Test func aBearerTokenIsRequiredWhenConfigured() async throws {
        try await withServer(token: "s3cret") { client in
            let missing = try await client.execute(uri: "/v1/schemas", method: .get, headers: Self.basicEmpty)
            #expect(missing.status == .unauthorized)
            let json = try JSONObject(Data(missing.body.readableBytesView))
            #expect(json.string("type") == "error")
            #expect(json.int("status") == 401)
            let wrong = try await client.execute(
                uri: "/v1/schemas", method: .get, headers: [.authorization: "Bearer s3cres"])
            #expect(wrong.status == .unauthorized)
            let longer = try await client.execute(
                uri: "/v1/schemas", method: .get, headers: [.authorization: "Bearer s3cret2"])
            #expect(longer.status == .unauthorized)
            let right = try await client.execute(
                uri: "/v1/schemas", method: .get, headers: [.authorization: "Bearer s3cret"])
            #expect(right.status == .ok)
        }
    }

    @Test func emptyBasicAuthIsAcceptedWithoutAToken() async throws {
        try await withServer { client in
            let response = try await client.execute(uri: "/v1/schemas", method: .get, headers: Self.basicEmpty)
            #expect(response.status == .ok)
        }
    }
}
