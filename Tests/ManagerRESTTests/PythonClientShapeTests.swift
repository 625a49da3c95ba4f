import Foundation
import HummingbirdTesting
import ManagerModel
import ManagerREST
import ManagerStore
import Testing

/// The API as Longhorn's Python client meets it, on a live loopback port over a SQLite store.
@Suite(.timeLimit(.minutes(2))) struct PythonClientShapeTests {
    private struct Findings: Decodable {
        var schemas: Int
        var collections: Int
        var resources: Int
        var stream: String
        var actions: String
    }

    /// Runs the script against `baseURL` without blocking a thread (its output goes to files, read
    /// once it exited): exit status, stdout, stderr.
    private static func runScript(baseURL: String) async throws -> (status: Int32, output: Data, errors: Data) {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hornbill-client-shape-output-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outputURL = directory.appendingPathComponent("stdout")
        let errorsURL = directory.appendingPathComponent("stderr")
        for url in [outputURL, errorsURL] {
            try #require(FileManager.default.createFile(atPath: url.path, contents: nil))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", pythonClientShapeScript, baseURL]
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorsURL)
        let status = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        return (status, try Data(contentsOf: outputURL), try Data(contentsOf: errorsURL))
    }

    @Test func theGdapiClientFindsEveryEnvelopeItExpects() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hornbill-client-shape-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteResourceStore(directory: directory)
        defer { try? store.close() }
        let api = ManagerAPI(groups: [
            SettingRoutes(store: store), NodeRoutes(store: store), InstanceManagerRoutes(store: store),
            TagRoutes(store: store), VolumeRoutes(store: store), EngineImageRoutes(store: store),
            SupportBundleRoutes(
                bundles: SupportBundles(
                    store: store, configuration: .init(directory: "\(directory)/bundles", nodeName: "node-1"))),
        ])
        // A node with a disk whose status has caught up with its spec, for the diskUpdate action.
        var node = Node(
            metadata: ResourceMetadata(name: "node-1"),
            spec: NodeSpec(name: "node-1", disks: ["fast": DiskSpec(path: "/data/fast", tags: ["ssd"])]))
        node.status.diskStatus = ["fast": DiskStatus(diskUUID: "u-fast")]
        _ = try await store.create(node, name: "node-1")
        let schemaCount = api.schemas.count
        let (status, output, errors) = try await api.makeApplication(host: "127.0.0.1", port: 0).test(.live) {
            client in
            try await Self.runScript(baseURL: "http://127.0.0.1:\(try #require(client.port))")
        }
        try #require(
            status == 0,
            """
            the Python client found a mismatch (python3 with requests and websocket-client, installed by \
            scripts/test.sh): \(String(decoding: errors, as: UTF8.self))
            """)
        let findings = try JSONDecoder().decode(Findings.self, from: output)
        #expect(findings.schemas == schemaCount)
        #expect(findings.collections == api.schemas.filter(\.isListable).count)
        // Every schema, every setting, the one engine image and the node.
        #expect(findings.resources == schemaCount + SettingDefinition.all.count + 2)
        #expect(findings.stream == "the initial collection and the change")
        #expect(findings.actions == "diskUpdate")
    }
}
