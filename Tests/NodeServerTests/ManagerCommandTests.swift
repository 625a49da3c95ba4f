// `hornbill manager` as a real process: settings over HTTP, the data-engine check against
// volumes in its store, and its one-line failures.

import Foundation
import Glibc
import ManagerClient
import ManagerModel
import ManagerStore
import TestSupport
import Testing

/// A manager process on a free loopback port, over the store in `directory`.
final class ManagerDaemon: @unchecked Sendable {
    let daemon: Daemon
    let port: UInt16
    let client: ManagerClient

    init(directory: String, extraArguments: [String] = []) async throws {
        port = freeTCPPort()
        daemon = try Daemon(
            ["manager", "--data-dir", directory + "/store", "--listen", "127.0.0.1:\(port)"] + extraArguments,
            errorPath: directory + "/manager.err")
        client = try ManagerClient(server: "http://127.0.0.1:\(port)")
        let client = self.client
        _ = try await eventually("the manager answers") { try? await client.get("/v1/settings") }
    }
}

@Suite(.serialized, .timeLimit(.minutes(2))) struct ManagerCommandTests {
    @Test func settingsGetSetAndValidationOverHTTP() async throws {
        let scratch = try ScratchDirectory()
        let manager = try await ManagerDaemon(directory: scratch.path)
        #expect(try await settingValue(manager.client, "v2-data-engine") == "false")
        let set = try await setSetting(manager.client, "v2-data-engine-hugepage-limit", " 64 ")
        #expect(set.value == "64")
        #expect(try await settingValue(manager.client, "v2-data-engine-hugepage-limit") == "64")

        let invalid = await #expect(throws: ManagerClientError.self) {
            try await setSetting(manager.client, "v2-data-engine-hugepage-limit", "lots")
        }
        #expect(invalid?.status == 400)
        #expect(invalid?.message.contains("with invalid value") == true)
        let unknown = await #expect(throws: ManagerClientError.self) {
            try await settingValue(manager.client, "no-such-setting")
        }
        #expect(unknown?.status == 404)
        #expect(try await settingValue(manager.client, "v2-data-engine-hugepage-limit") == "64")

        // A restarted manager reads what the last one stored.
        manager.daemon.stop(SIGTERM)
        #expect(manager.daemon.process.terminationStatus == 0)
        let again = try await ManagerDaemon(directory: scratch.path)
        #expect(try await settingValue(again.client, "v2-data-engine-hugepage-limit") == "64")
    }

    @Test func aDataEngineCannotBeTurnedOffWhileItsVolumesAreAttached() async throws {
        let scratch = try ScratchDirectory()
        // Volumes written before the manager opens the store (one process holds it at a time).
        do {
            let store = try SQLiteResourceStore(directory: scratch.path + "/store")
            var attached = VolumeSpec()
            attached.dataEngine = .v2
            attached.nodeID = "node-1"
            _ = try await store.create(
                Volume(metadata: ResourceMetadata(name: "v2-attached"), spec: attached), name: "v2-attached")
            var detached = VolumeSpec()
            detached.dataEngine = .v1
            _ = try await store.create(
                Volume(metadata: ResourceMetadata(name: "v1-detached"), spec: detached), name: "v1-detached")
            try store.close()
        }
        let manager = try await ManagerDaemon(directory: scratch.path)
        try await setSetting(manager.client, "v2-data-engine", "true")
        let refused = await #expect(throws: ManagerClientError.self) {
            try await setSetting(manager.client, "v2-data-engine", "false")
        }
        #expect(refused?.status == 400)
        #expect(
            refused?.message.contains(
                "cannot apply v2-data-engine setting to Longhorn workloads when there are attached v2 volumes") == true)
        #expect(try await settingValue(manager.client, "v2-data-engine") == "true")
        // No v1 volume is attached: v1 may go off, and come back.
        try await setSetting(manager.client, "v1-data-engine", "false")
        try await setSetting(manager.client, "v1-data-engine", "true")
    }

    @Test func aBadFlagOrATakenPortIsOneLineAndExitOne() async throws {
        let scratch = try ScratchDirectory()
        let badFlag = try hornbill(["manager", "--data-dir", scratch.path, "--listen", "nowhere"])
        #expect(badFlag.status != 0)
        #expect(badFlag.errors.contains("--listen"))

        let taken = try RawListener()
        let busy = try hornbill([
            "manager", "--data-dir", scratch.path + "/store", "--listen", "127.0.0.1:\(taken.port)",
        ])
        #expect(busy.status == 1)
        let lines = busy.errors.split(separator: "\n")
        #expect(lines.count == 1, "\(busy.errors)")
        #expect(busy.errors.contains("hornbill manager:"))
    }

    @Test func aTokenFileMakesEveryRequestCarryIt() async throws {
        let scratch = try ScratchDirectory()
        let tokenPath = scratch.path + "/token"
        FileManager.default.createFile(atPath: tokenPath, contents: Data("s3cret\n".utf8))
        let port = freeTCPPort()
        let daemon = try Daemon(
            [
                "manager", "--data-dir", scratch.path + "/store", "--listen", "127.0.0.1:\(port)", "--api-token-file",
                tokenPath,
            ],
            errorPath: scratch.path + "/manager.err")
        let withToken = try ManagerClient(server: "http://127.0.0.1:\(port)", token: "s3cret")
        _ = try await eventually("the manager answers") { try? await withToken.get("/v1/settings") }
        let without = try ManagerClient(server: "http://127.0.0.1:\(port)")
        let refused = await #expect(throws: ManagerClientError.self) { try await without.get("/v1/settings") }
        #expect(refused?.status == 401)
        _ = daemon
    }
}
