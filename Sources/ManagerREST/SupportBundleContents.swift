// What a support bundle holds, under one top directory `<root>/`:
// - `resources/<kind>.json`: every stored resource of each kind (settings among them), a list of
//   `{"name", "resourceVersion", "labels", "object"}` with the stored document as `object`;
// - `logs/<file>`: the end of each `*.log` file in the log directory, if the manager was given one
//   (`ManagerRESTLimits.supportBundleLogTailBytes` at most each, and only what fits in the bundle);
// - `manifest.json`: the node, when, the request's issue URL and description, every file with its
//   size, and the logs that were cut or left out.
// The resources must fit within `ManagerRESTLimits.supportBundleBytesMax`; the logs get what is
// left.

import Foundation
import ManagerModel

struct SupportBundleContents {
    struct File {
        var path: String
        var data: Data
    }

    /// The kinds a bundle holds, in order.
    static let kinds: [ResourceKind] = [
        .settings, .nodes, .volumes, .engines, .replicas, .instanceManagers, .volumeAttachments, .orphans,
    ]

    var files: [File] = []
    private var bytes = 0
    private var notes: [String] = []

    /// Adds the stored resources of every kind.
    mutating func addResources(from store: any ResourceStore, root: String) async throws {
        for kind in Self.kinds {
            let list = try await store.list(kind, selector: .everything)
            var data = Data("[".utf8)
            for (index, item) in list.items.sorted(by: { $0.name < $1.name }).enumerated() {
                if index > 0 { data.append(Data(",\n".utf8)) }
                data.append(Data(#"{"name":"#.utf8))
                data.append(try JSONEncoder().encode(item.name))
                data.append(Data(#","resourceVersion":\#(item.resourceVersion),"labels":"#.utf8))
                data.append(try APIResponse.encode(item.labels))
                data.append(Data(#","object":"#.utf8))
                data.append(item.document)
                data.append(Data("}".utf8))
            }
            data.append(Data("]\n".utf8))
            guard bytes + data.count <= ManagerRESTLimits.supportBundleBytesMax else {
                throw SupportBundleError(
                    "the stored resources exceed the support bundle's \(ManagerRESTLimits.supportBundleBytesMax) bytes")
            }
            append("\(root)/resources/\(kind.rawValue).json", data)
        }
    }

    /// Adds the end of each `*.log` file in `directory`, by name, while the bundle has room.
    mutating func addLogs(in directory: String, root: String) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names.sorted() where name.hasSuffix(".log") {
            let path = "\(directory)/\(name)"
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            let room = min(ManagerRESTLimits.supportBundleLogTailBytes, ManagerRESTLimits.supportBundleBytesMax - bytes)
            guard room > 0 else {
                notes.append("logs/\(name) left out: the bundle is full")
                continue
            }
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            let end = try handle.seekToEnd()
            let start = end > UInt64(room) ? end - UInt64(room) : 0
            try handle.seek(toOffset: start)
            let data = try handle.read(upToCount: room) ?? Data()
            if start > 0 { notes.append("logs/\(name): only its last \(data.count) of \(end) bytes") }
            append("\(root)/logs/\(name)", data)
        }
    }

    /// Adds the manifest, which lists every file added before it.
    mutating func addManifest(
        root: String, node: String, created: String, issueURL: String, description: String
    )
        throws
    {
        struct Manifest: Encodable {
            struct Entry: Encodable {
                var path: String
                var size: Int
            }
            var node: String
            var created: String
            var issueURL: String
            var description: String
            var files: [Entry]
            var notes: [String]
        }
        let manifest = Manifest(
            node: node, created: created, issueURL: issueURL, description: description,
            files: files.map { Manifest.Entry(path: $0.path, size: $0.data.count) }, notes: notes)
        append("\(root)/manifest.json", try APIResponse.encode(manifest))
    }

    private mutating func append(_ path: String, _ data: Data) {
        files.append(File(path: path, data: data))
        bytes += data.count
    }
}

/// A support bundle that could not be made or served.
struct SupportBundleError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
