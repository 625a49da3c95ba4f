// /v1/settings: every setting with its stored value or its default; /v1/ws/settings streams them.
//
// `PUT /v1/settings/<name>` reads only `value` from the body, validates and normalizes it (400
// with the setting's message), asks the change validator, then writes it with compare-and-swap:
// a write that lost a race with another one is tried again on the new version, and after
// `ManagerRESTLimits.conflictRetries` the client gets 409.

import Foundation
public import Hummingbird
public import ManagerModel

public struct SettingRoutes: APIRouteGroup {
    let store: any ResourceStore
    let changeValidator: (any SettingChangeValidator)?

    public init(store: any ResourceStore, changeValidator: (any SettingChangeValidator)? = nil) {
        self.store = store
        self.changeValidator = changeValidator
    }

    public var schemas: [APISchema] { [SettingFields.schema] }

    public func addRoutes(to router: Router<BasicRequestContext>, links: @escaping @Sendable (Request) -> APILinks) {
        router.get("/v1/settings") { request, _ in
            try APIResponse.json(try await collection(links: links(request)))
        }
        router.get("/v1/settings/:name") { request, context in
            let definition = try Self.definition(context)
            let stored = try await read(definition.name)
            return try APIResponse.json(resource(definition, stored?.document, links: links(request)))
        }
        router.put("/v1/settings/:name") { request, context in
            let definition = try Self.definition(context)
            let body = try await APIRequestBody.decode(SettingUpdate.self, from: request)
            let document = try await set(definition, to: body.value ?? "")
            return try APIResponse.json(resource(definition, document, links: links(request)))
        }
    }

    /// `/v1/ws/settings`: the settings collection again on every change of a stored setting.
    public var streams: [APIStream] {
        [APIStream(name: "settings", store: store, kinds: [SettingStorage.kind], collection: collection(links:))]
    }

    /// Every setting, in the collection envelope.
    private func collection(links: APILinks) async throws(APIError) -> APICollection<APIResource<SettingFields>> {
        let settings = try await list().map { resource($0.definition, $0.document, links: links) }
        return APICollection(resourceType: "setting", selfURL: links.collection("settings"), data: settings)
    }

    /// The body of a setting update: only `value` is read.
    private struct SettingUpdate: Decodable {
        var value: String?
    }

    private static func definition(_ context: BasicRequestContext) throws(APIError) -> SettingDefinition {
        let name = context.parameters.get("name") ?? ""
        do {
            return try SettingDefinition.definition(of: name)
        } catch {
            throw APIError(error)
        }
    }

    private func resource(
        _ definition: SettingDefinition, _ document: Setting?, links: APILinks
    )
        -> APIResource<SettingFields>
    {
        APIResource(
            id: definition.name, type: "setting", pluralName: "settings",
            fields: SettingFields(definition, document: document), links: links)
    }

    /// Every defined setting with its stored document, if any, in name order.
    private func list() async throws(APIError) -> [(definition: SettingDefinition, document: Setting?)] {
        let stored: ResourceList
        do {
            stored = try await store.list(SettingStorage.kind, selector: .everything)
        } catch {
            throw APIError(error)
        }
        var documents: [String: Setting] = [:]
        for item in stored.items {
            documents[item.name] = try Self.decode(item)
        }
        return SettingDefinition.all.map { ($0, documents[$0.name]) }
    }

    private func read(_ name: String) async throws(APIError) -> (document: Setting, version: Int64)? {
        let stored: StoredResource?
        do {
            stored = try await store.get(SettingStorage.kind, name: name)
        } catch {
            throw APIError(error)
        }
        guard let stored else { return nil }
        return (try Self.decode(stored), stored.resourceVersion)
    }

    private func set(_ definition: SettingDefinition, to value: String) async throws(APIError) -> Setting {
        let proposed: String
        do {
            proposed = try definition.validate(value)
        } catch {
            throw APIError(error)
        }
        let current = try await read(definition.name)
        if let changeValidator {
            do {
                try await changeValidator.validateChange(
                    of: definition, from: current?.document.value ?? definition.defaultValue, to: proposed)
            } catch let refusal as SettingChangeRefusal {
                throw APIError(
                    SettingError.invalidValue(name: definition.name, value: proposed, reason: refusal.reason))
            } catch {
                throw APIError.internalError("checking setting \(definition.name) failed: \(error)")
            }
        }
        // The value is in force once written: every reader of the setting reads the store.
        let created = current?.document.metadata.creationTimestamp ?? Date().formatted(.iso8601)
        let document = Setting(
            metadata: ResourceMetadata(name: definition.name, creationTimestamp: created), value: proposed,
            status: SettingStatus(applied: true))
        let data = try Self.encode(document)
        var existing = current
        for attempt in 0...ManagerRESTLimits.conflictRetries {
            do {
                if let existing {
                    _ = try await store.update(
                        SettingStorage.kind, name: definition.name, labels: [:], document: data,
                        expectedVersion: existing.version)
                } else {
                    _ = try await store.create(SettingStorage.kind, name: definition.name, labels: [:], document: data)
                }
                return document
            } catch .conflict, .alreadyExists, .notFound {
                // Another writer changed the setting since it was read: write over its new version.
                if attempt == ManagerRESTLimits.conflictRetries { break }
                existing = try await read(definition.name)
            } catch {
                throw APIError(error)
            }
        }
        throw APIError.conflict("setting \(definition.name) kept changing while it was being set; try again")
    }

    private static func decode(_ stored: StoredResource) throws(APIError) -> Setting {
        do {
            return try JSONDecoder().decode(Setting.self, from: stored.document)
        } catch {
            throw APIError.internalError("the stored setting \(stored.name) cannot be read: \(error)")
        }
    }

    private static func encode(_ document: Setting) throws(APIError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return try encoder.encode(document)
        } catch {
            throw APIError.internalError("setting \(document.metadata.name) cannot be encoded: \(error)")
        }
    }
}
