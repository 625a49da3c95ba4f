import Foundation
import ManagerModel
import NIOCore
import Testing

@testable import ManagerREST

/// The caches behind GET of a node: a decoded document is used only for the version it was decoded
/// from, a rendered answer only for equal inputs, and both stay within their capacity.
@Suite struct ResponseCacheTests {
    private func stored(_ name: String, version: Int64, value: String) throws -> StoredResource {
        let setting = Setting(metadata: ResourceMetadata(name: name), value: value)
        return StoredResource(
            kind: Setting.kind, name: name, resourceVersion: version, createRevision: 1, labels: [:],
            document: try JSONEncoder().encode(setting))
    }

    @Test func aDecodedDocumentIsUsedOnlyForItsVersion() throws {
        let cache = DecodedDocumentCache<Setting>()
        #expect(try cache.decode(stored("a", version: 1, value: "one")).value == "one")
        #expect(try cache.decode(stored("a", version: 2, value: "two")).value == "two")
        // The same name and version is the same document (the store never reuses a revision).
        #expect(try cache.decode(stored("a", version: 2, value: "two")).value == "two")
        #expect(try cache.decode(stored("b", version: 3, value: "three")).value == "three")
        #expect(cache.count == 2)
    }

    @Test func aDocumentThatDoesNotDecodeIsTheServersFaultAndIsNotKept() throws {
        let cache = DecodedDocumentCache<Setting>()
        let broken = StoredResource(
            kind: Setting.kind, name: "a", resourceVersion: 1, createRevision: 1, labels: [:],
            document: Data("[1]".utf8))
        #expect(throws: APIError.self) { try cache.decode(broken) }
        #expect(cache.count == 0)
    }

    @Test func theDecodedCacheStartsAgainPastItsCapacity() throws {
        let cache = DecodedDocumentCache<Setting>(capacity: 2)
        _ = try cache.decode(stored("a", version: 1, value: "x"))
        _ = try cache.decode(stored("b", version: 2, value: "x"))
        _ = try cache.decode(stored("b", version: 3, value: "y"))
        #expect(cache.count == 2, "a new version of a held name takes its place")
        #expect(try cache.decode(stored("c", version: 4, value: "z")).value == "z")
        #expect(cache.count == 1)
    }

    private struct Inputs: Hashable, Sendable {
        var version: Int64
        var origin: String
    }

    @Test func aRenderedAnswerIsUsedOnlyForEqualInputs() throws {
        let cache = RenderedResourceCache<Inputs>()
        var renders = 0
        func render(_ inputs: Inputs) throws -> String {
            let body = try cache.body(name: "n", inputs: inputs) { () throws(APIError) in
                renders += 1
                return ["version": "\(inputs.version)", "origin": inputs.origin]
            }
            return String(buffer: body)
        }
        let first = try render(Inputs(version: 1, origin: "http://a"))
        #expect(first == #"{"origin":"http://a","version":"1"}"#)
        #expect(try render(Inputs(version: 1, origin: "http://a")) == first && renders == 1)
        #expect(try render(Inputs(version: 1, origin: "http://b")) == #"{"origin":"http://b","version":"1"}"#)
        #expect(try render(Inputs(version: 2, origin: "http://b")) == #"{"origin":"http://b","version":"2"}"#)
        #expect(renders == 3 && cache.count == 1)
    }
}
