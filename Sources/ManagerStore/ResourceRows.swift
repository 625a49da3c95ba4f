// How a resource and a change are laid out in a row: labels as a JSON object with sorted keys,
// the document as a BLOB of the caller's JSON bytes.

import Foundation
import GRDB
import ManagerModel
import Synchronization

enum ResourceRows {
    static let resourceColumns = "kind, name, resource_version, create_revision, labels, document"

    static func encode(labels: [String: String]) throws(ResourceStoreError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let data = try? encoder.encode(labels) else { throw .invalid("labels cannot be encoded as JSON") }
        return String(decoding: data, as: UTF8.self)
    }

    /// The labels stored as `text`. One text always decodes to one map, and resources share a few
    /// label sets that change rarely, so the maps of texts already decoded are kept and looked up.
    static func decodeLabels(_ text: String, kind: String, name: String) throws(ResourceStoreError) -> [String: String] {
        if text == "{}" { return [:] }  // what `encode(labels:)` writes for none
        if let labels = decodedLabels.withLock({ $0[text] }) { return labels }
        guard let labels = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)) else {
            throw .unavailable("\(kind) \"\(name)\": its stored labels are not a JSON object of strings")
        }
        decodedLabels.withLock { kept in
            if kept.count >= StoreLimits.decodedLabelsMax { kept.removeAll(keepingCapacity: true) }
            kept[text] = labels
        }
        return labels
    }

    private static let decodedLabels = Mutex<[String: [String: String]]>([:])

    /// A `resources` row (columns `resourceColumns`) as a stored resource.
    static func resource(from row: Row) throws(ResourceStoreError) -> StoredResource {
        let kind: String = row["kind"]
        let name: String = row["name"]
        let labelsText: String = row["labels"]
        let document: Data = row["document"]
        return StoredResource(
            kind: ResourceKind(rawValue: kind), name: name, resourceVersion: row["resource_version"],
            createRevision: row["create_revision"], labels: try decodeLabels(labelsText, kind: kind, name: name),
            document: document)
    }

    /// A `changes` row as the event a watch delivers.
    static func event(from row: Row) throws(ResourceStoreError) -> ResourceEvent {
        let kind: String = row["kind"]
        let name: String = row["name"]
        let changeText: String = row["change"]
        let labelsText: String = row["labels"]
        let document: Data = row["document"]
        guard let change = ResourceEvent.Change(rawValue: changeText) else {
            throw .unavailable("the change at revision \(row["revision"] as Int64) has an unknown type \"\(changeText)\"")
        }
        let resource = StoredResource(
            kind: ResourceKind(rawValue: kind), name: name, resourceVersion: row["revision"],
            createRevision: row["create_revision"], labels: try decodeLabels(labelsText, kind: kind, name: name),
            document: document)
        return ResourceEvent(change: change, resource: resource)
    }
}
