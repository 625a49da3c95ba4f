import Foundation
import Hummingbird
import ManagerModel
import Testing

@testable import ManagerREST

@Suite struct EnvelopeEncodingTests {
    private let links = APILinks(host: "node-1:9500")

    private struct VolumeFields: Encodable, Sendable {
        var name: String
        var size: String
    }

    @Test func aResourceCarriesItsFieldsAndTheEnvelope() throws {
        let resource = APIResource(
            id: "vol-1", type: "volume", pluralName: "volumes", actions: ["attach", "detach"],
            fields: VolumeFields(name: "vol-1", size: "1073741824"), links: links)
        let json = try encodeJSON(resource)
        #expect(json.string("id") == "vol-1")
        #expect(json.string("type") == "volume")
        #expect(json.string("name") == "vol-1")
        #expect(json.string("size") == "1073741824")
        #expect(json.object("links")?.string("self") == "http://node-1:9500/v1/volumes/vol-1")
        #expect(json.object("actions")?.string("attach") == "http://node-1:9500/v1/volumes/vol-1?action=attach")
        #expect(json.object("actions")?.string("detach") == "http://node-1:9500/v1/volumes/vol-1?action=detach")
    }

    @Test func aResourceWithoutActionsHasAnEmptyMap() throws {
        let json = try encodeJSON(
            APIResource(
                id: "a", type: "volume", pluralName: "volumes", fields: VolumeFields(name: "a", size: "0"), links: links
            ))
        #expect(json.object("actions")?.members.isEmpty == true)
    }

    @Test func anEmptyCollectionHasAListNotNull() throws {
        let json = try encodeJSON(
            APICollection<APIResource<VolumeFields>>(
                resourceType: "volume", selfURL: links.collection("volumes"), data: []))
        #expect(json.string("type") == "collection")
        #expect(json.string("resourceType") == "volume")
        #expect(json.object("links")?.string("self") == "http://node-1:9500/v1/volumes")
        #expect(json.object("actions")?.members.isEmpty == true)
        #expect((json["data"] as? [Any])?.isEmpty == true)
    }

    @Test func anErrorCarriesStatusCodeMessageAndDetail() throws {
        let json = try encodeJSON(APIErrorBody(APIError(.conflict, "volume vol-1 was modified", detail: "retry")))
        #expect(json.string("type") == "error")
        #expect(json.int("status") == 409)
        #expect(json.string("code") == "Conflict")
        #expect(json.string("message") == "volume vol-1 was modified")
        #expect(json.string("detail") == "retry")
    }

    @Test func aSchemaLinksItsCollectionOnlyWhenListable() throws {
        let listable = try encodeJSON(
            APISchema(id: "instanceManager", pluralName: "instanceManagers").resource(links: links))
        #expect(listable.string("type") == "schema")
        #expect(listable.object("links")?.string("collection") == "http://node-1:9500/v1/instancemanagers")
        #expect(listable.object("links")?.string("self") == "http://node-1:9500/v1/schemas/instanceManager")
        #expect(listable["collectionMethods"] as? [String] == ["GET"])
        #expect(listable["resourceMethods"] as? [String] == ["GET"])
        let unlisted = try encodeJSON(
            APISchema(id: "error", pluralName: "errors", collectionMethods: [], resourceMethods: []).resource(
                links: links))
        #expect(unlisted.object("links")?.string("collection") == nil)
    }

    @Test func storeAndSettingFailuresMapToHTTPStatuses() {
        #expect(APIError(.notFound(kind: .init(rawValue: "settings"), name: "x")).status == .notFound)
        #expect(
            APIError(.conflict(kind: .init(rawValue: "settings"), name: "x", expected: 1, actual: 2)).status
                == .conflict)
        #expect(APIError(.alreadyExists(kind: .init(rawValue: "settings"), name: "x")).status == .conflict)
        #expect(APIError(.invalid("bad name")).status == .badRequest)
        #expect(APIError(.unavailable("disk gone")).status == .internalServerError)
        #expect(APIError(.notFound(name: "x")).status == .notFound)
        #expect(APIError(.invalidValue(name: "x", value: "y", reason: "z")).status == .badRequest)
    }
}
