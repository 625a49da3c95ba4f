// Reading and writing stored resource documents for the routes: a document that does not decode is
// the server's fault (500, naming the resource), never the client's.

import Foundation
import ManagerModel

enum StoredDocuments {
    static func decode<Resource: StoredResourceType>(
        _ type: Resource.Type, _ stored: StoredResource
    ) throws(APIError) -> Resource {
        do {
            return try JSONDecoder().decode(Resource.self, from: stored.document)
        } catch {
            throw APIError.internalError("the stored \(Resource.kind) \(stored.name) cannot be read: \(error)")
        }
    }

    static func encode<Resource: StoredResourceType>(_ value: Resource, name: String) throws(APIError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return try encoder.encode(value)
        } catch {
            throw APIError.internalError("\(Resource.kind) \(name) cannot be encoded: \(error)")
        }
    }

    /// Every stored resource of the type, by name; decoded through `cache` when given.
    static func list<Resource: StoredResourceType>(
        _ type: Resource.Type, store: any ResourceStore, cache: DecodedDocumentCache<Resource>? = nil
    ) async throws(APIError) -> [(name: String, value: Resource)] {
        let list: ResourceList
        do {
            list = try await store.list(Resource.kind, selector: .everything)
        } catch {
            throw APIError(error)
        }
        var items: [(name: String, value: Resource)] = []
        for item in list.items.sorted(by: { $0.name < $1.name }) {
            if let cache {
                items.append((item.name, try cache.decode(item)))
            } else {
                items.append((item.name, try decode(Resource.self, item)))
            }
        }
        return items
    }
}
