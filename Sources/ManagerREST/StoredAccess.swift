// Typed reads and compare-and-swap writes of stored resources for the routes, and the settings
// they consult. A write reads the current version, applies the change and writes it only if the
// version is still the same; a lost race is tried again on the new version.

import Foundation
import ManagerModel

struct StoredAccess: Sendable {
    let store: any ResourceStore

    func read<Resource: StoredResourceType>(
        _ type: Resource.Type, _ name: String
    ) async throws(APIError) -> (value: Resource, version: Int64, labels: [String: String])? {
        let stored: StoredResource?
        do {
            stored = try await store.get(Resource.kind, name: name)
        } catch {
            throw APIError(error)
        }
        guard let stored else { return nil }
        return (try StoredDocuments.decode(Resource.self, stored), stored.resourceVersion, stored.labels)
    }

    func list<Resource: StoredResourceType>(
        _ type: Resource.Type, _ selector: ResourceSelector
    ) async throws(APIError) -> [Resource] {
        let list: ResourceList
        do {
            list = try await store.list(Resource.kind, selector: selector)
        } catch {
            throw APIError(error)
        }
        var items: [Resource] = []
        for item in list.items.sorted(by: { $0.name < $1.name }) { items.append(try StoredDocuments.decode(Resource.self, item)) }
        return items
    }

    /// Applies `change` to the stored resource and writes it with compare-and-swap; 404 when
    /// there is none. Answers the resource as written.
    @discardableResult
    func modify<Resource: StoredResourceType & Equatable>(
        _ type: Resource.Type, _ name: String, _ change: (inout Resource) throws(APIError) -> Void
    ) async throws(APIError) -> Resource {
        for _ in 0...ManagerRESTLimits.conflictRetries {
            guard let current = try await read(Resource.self, name) else {
                throw APIError.notFound("\(Self.noun(Resource.kind)) \(name) not found")
            }
            var value = current.value
            try change(&value)
            guard value != current.value else { return value }
            let document = try StoredDocuments.encode(value, name: name)
            do {
                _ = try await store.update(
                    Resource.kind, name: name, labels: current.labels, document: document,
                    expectedVersion: current.version)
                return value
            } catch .conflict {
                continue
            } catch {
                throw APIError(error)
            }
        }
        throw APIError.conflict("\(Self.noun(Resource.kind)) \(name) kept changing while it was being updated; try again")
    }

    /// The value of a setting: stored, or its default.
    func settingValue(_ name: String) async throws(APIError) -> String {
        let definition: SettingDefinition
        do {
            definition = try SettingDefinition.definition(of: name)
        } catch {
            throw APIError.internalError("unknown setting \(name)")
        }
        guard let stored = try await read(Setting.self, name) else { return definition.defaultValue }
        return stored.value.value
    }

    /// `default-replica-count` for each data engine.
    func defaultReplicaCount() async throws(APIError) -> [DataEngine: Int] {
        let name = "default-replica-count"
        let stored = try await settingValue(name)
        guard let definition = try? SettingDefinition.definition(of: name) else { return [:] }
        let values = definition.engineValues(of: stored) ?? definition.engineValues(of: definition.defaultValue) ?? [:]
        return values.compactMapValues { Int($0) }
    }

    /// "volume attachment" for `volumeAttachments`, and so on.
    static func noun(_ kind: ResourceKind) -> String {
        switch kind {
        case .volumeAttachments: "volume attachment"
        case .instanceManagers: "instance manager"
        default: String(kind.rawValue.dropLast())
        }
    }
}
