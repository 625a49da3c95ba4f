import Foundation
import HTTPTypes
import HummingbirdTesting
import ManagerModel
import ManagerREST
import ManagerStore
import NIOCore
import Testing

/// /v1/supportbundles over a SQLite store and a log directory; the zip read back by Python's
/// zipfile, which checks every entry's CRC.
@Suite(.serialized, .timeLimit(.minutes(2))) struct SupportBundleRoutesTests {
    private final class Fixture: @unchecked Sendable {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hornbill-support-bundles-\(UUID().uuidString)").path
        let store: SQLiteResourceStore

        init() throws {
            try FileManager.default.createDirectory(atPath: "\(directory)/logs", withIntermediateDirectories: true)
            store = try SQLiteResourceStore(directory: "\(directory)/store")
        }

        var bundleDirectory: String { "\(directory)/bundles" }

        deinit {
            try? store.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    private func json(_ response: TestResponse) throws -> JSONObject {
        try JSONObject(Data(response.body.readableBytesView))
    }

    /// The archive's entries as Python's zipfile reads them: each name with its text (its size and
    /// last 16 bytes when over 64 KiB), after `testzip` found every CRC right.
    private func readZip(_ path: String) throws -> [String: String] {
        let script = """
            import json, sys, zipfile
            with zipfile.ZipFile(sys.argv[1]) as z:
                bad = z.testzip()
                if bad is not None:
                    sys.exit("bad CRC in " + bad)
                out = {}
                for name in z.namelist():
                    data = z.read(name)
                    out[name] = data.decode() if len(data) <= 65536 else "%d:%s" % (len(data), data[-16:].decode())
                print(json.dumps(out))
            """
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("zip-\(UUID().uuidString)")
        try #require(FileManager.default.createFile(atPath: output.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path]
        process.standardOutput = try FileHandle(forWritingTo: output)
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let data = try Data(contentsOf: output)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: String])
    }

    @Test func aBundleHoldsTheResourcesAndTheLogsAndReplacesTheLastOne() async throws {
        let fixture = try Fixture()
        _ = try await fixture.store.create(
            Node(metadata: ResourceMetadata(name: "node-1"), spec: NodeSpec(name: "node-1", tags: ["fast"])),
            name: "node-1")
        _ = try await fixture.store.create(
            Setting(metadata: ResourceMetadata(name: "v2-data-engine"), value: "true"), name: "v2-data-engine")
        try Data("manager started\nmanager ready\n".utf8).write(
            to: URL(fileURLWithPath: "\(fixture.directory)/logs/manager.log"))
        // A log longer than a bundle keeps: only its end goes in.
        let big = "\(fixture.directory)/logs/tgt.log"
        try #require(FileManager.default.createFile(atPath: big, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: big))
        try handle.truncate(atOffset: 9 << 20)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("the-final-line.\n".utf8))
        try handle.close()
        try Data("not a log".utf8).write(to: URL(fileURLWithPath: "\(fixture.directory)/logs/notes.txt"))

        let bundles = SupportBundles(
            store: fixture.store,
            configuration: .init(
                directory: fixture.bundleDirectory, nodeName: "node-1", logDirectory: "\(fixture.directory)/logs"))
        let api = ManagerAPI(groups: [SupportBundleRoutes(bundles: bundles)])
        try await api.makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            let empty = try json(try await client.execute(uri: "/v1/supportbundles", method: .get))
            #expect(empty.objects("data")?.isEmpty == true && empty.string("resourceType") == "supportBundle")

            let tooLong = try await client.execute(
                uri: "/v1/supportbundles", method: .post,
                body: ByteBuffer(string: #"{"description":"\#(String(repeating: "x", count: 5000))"}"#))
            #expect(tooLong.status == .badRequest)

            let created = try json(
                try await client.execute(
                    uri: "/v1/supportbundles", method: .post,
                    body: ByteBuffer(string: #"{"issueURL":"https://example.com/issues/1","description":"slow disk"}"#))
            )
            let name = try #require(created.string("name"))
            #expect(created.string("id") == name && created.string("type") == "supportBundle")
            #expect(name.hasPrefix("support-bundle-") && created.string("nodeID") == "node-1")
            let fileName = try #require(created.string("fileName"))
            #expect(fileName.hasPrefix("supportbundle_node-1_") && fileName.hasSuffix(".zip"))

            let ready = try await until("bundle ready") { () async throws -> JSONObject? in
                let shown = try json(try await client.execute(uri: "/v1/supportbundles/\(name)/\(name)", method: .get))
                #expect(shown.string("state") != "Error", "\(shown.string("errorMessage") ?? "")")
                return shown.string("state") == "ReadyForDownload" ? shown : nil
            }
            #expect(ready.int("progressPercentage") == 100 && ready.string("errorMessage") == "")
            let size = try #require(ready.int("fileSize"))

            let download = try await client.execute(uri: "/v1/supportbundles/\(name)/\(name)/download", method: .get)
            #expect(download.status == .ok)
            #expect(download.headers[.contentType] == "application/zip")
            #expect(download.headers[.contentDisposition] == "attachment; filename=\(fileName)")
            #expect(download.body.readableBytes == size)
            let zipPath = "\(fixture.directory)/downloaded.zip"
            try Data(download.body.readableBytesView).write(to: URL(fileURLWithPath: zipPath))
            let entries = try readZip(zipPath)
            let root = String(fileName.dropLast(4))
            #expect(
                Set(entries.keys).isSuperset(of: [
                    "\(root)/manifest.json", "\(root)/resources/nodes.json", "\(root)/resources/settings.json",
                    "\(root)/resources/volumes.json", "\(root)/logs/manager.log", "\(root)/logs/tgt.log",
                ]))
            #expect(entries["\(root)/logs/notes.txt"] == nil)
            #expect(entries["\(root)/logs/manager.log"] == "manager started\nmanager ready\n")
            #expect(entries["\(root)/logs/tgt.log"] == "\(8 << 20):the-final-line.\n")
            #expect(entries["\(root)/resources/volumes.json"] == "[]\n")
            let nodes = try #require(
                try JSONSerialization.jsonObject(with: Data((entries["\(root)/resources/nodes.json"] ?? "").utf8))
                    as? [[String: Any]])
            #expect(nodes.count == 1 && nodes.first?["name"] as? String == "node-1")
            #expect(
                ((nodes.first?["object"] as? [String: Any])?["spec"] as? [String: Any])?["tags"] as? [String] == [
                    "fast"
                ])
            let settings = entries["\(root)/resources/settings.json"] ?? ""
            #expect(settings.contains("v2-data-engine"))
            let manifest = try JSONObject(Data((entries["\(root)/manifest.json"] ?? "").utf8))
            #expect(manifest.string("node") == "node-1" && manifest.string("description") == "slow disk")
            #expect((manifest["notes"] as? [String])?.contains { $0.hasPrefix("logs/tgt.log: only its last") } == true)

            let mismatched = try await client.execute(uri: "/v1/supportbundles/\(name)/other", method: .get)
            #expect(mismatched.status == .notFound)
            let unknown = try await client.execute(uri: "/v1/supportbundles/nope/nope/download", method: .get)
            #expect(unknown.status == .notFound)

            // A second bundle replaces the first, whose file goes.
            try await Task.sleep(for: .seconds(1.1))
            let second = try json(
                try await client.execute(uri: "/v1/supportbundles", method: .post, body: ByteBuffer(string: "{}")))
            let secondName = try #require(second.string("name"))
            #expect(secondName != name)
            let old = try await client.execute(uri: "/v1/supportbundles/\(name)", method: .get)
            #expect(old.status == .notFound)
            _ = try await until("second bundle ready") { () async throws -> Bool? in
                let shown = try json(try await client.execute(uri: "/v1/supportbundles/\(secondName)", method: .get))
                return shown.string("state") == "ReadyForDownload" ? true : nil
            }
            let files = try FileManager.default.contentsOfDirectory(atPath: fixture.bundleDirectory)
            #expect(files == [try #require(second.string("fileName"))])
            let listed = try json(try await client.execute(uri: "/v1/supportbundles", method: .get))
            #expect(listed.objects("data")?.compactMap { $0.string("id") } == [secondName])

            let deleted = try await client.execute(uri: "/v1/supportbundles/\(secondName)", method: .delete)
            #expect(deleted.status == .ok)
            #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.bundleDirectory).isEmpty)
            let gone = try await client.execute(
                uri: "/v1/supportbundles/\(secondName)/\(secondName)/download", method: .get)
            #expect(gone.status == .notFound)
        }
    }
}

/// Polls `body` until it returns a value, up to `seconds`.
private func until<T>(_ what: String, within seconds: Double = 20, _ body: () async throws -> T?) async throws -> T {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if let value = try await body() { return value }
        guard Date() < deadline else { throw BundleTestTimeout(what: what) }
        try await Task.sleep(for: .milliseconds(50))
    }
}

private struct BundleTestTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "\(what): not in time" }
}
