// `hornbill server` in a temporary directory: its children start, follow v2-data-engine, come
// back after kill -9, and all stop on SIGTERM.

import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Glibc
import InstanceManagerAPI
import JSONRPC
import ManagerClient
import TestSupport
import Testing

/// The children the server recorded: name → pid.
private func recordedChildren(_ directory: String) -> [String: Int32] {
    guard let text = try? String(contentsOfFile: directory + "/server-children", encoding: .utf8) else { return [:] }
    var children: [String: Int32] = [:]
    for line in text.split(separator: "\n") {
        let fields = line.split(separator: " ")
        if fields.count == 3, let pid = Int32(fields[0]) { children[String(fields[2])] = pid }
    }
    return children
}

/// Whether the gRPC server on `port` answers a health check with SERVING.
private func healthServing(port: Int) async -> Bool {
    do {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
        return try await withGRPCClient(transport: transport) { client in
            let health = Grpc_Health_V1_Health.Client(wrapping: client)
            return try await health.check(Grpc_Health_V1_HealthCheckRequest()).status == .serving
        }
    } catch {
        return false
    }
}

/// Whether the tgt answers JSON-RPC on `socket`.
private func tgtAnswers(_ socket: String) async -> Bool {
    let client = JSONRPCAsyncClient(path: socket, defaultTimeout: .seconds(2))
    defer { Task { await client.close() } }
    return (try? await client.call("spdk_get_version")) != nil
}

/// `GET /v1/nodes`.
private struct NodeListItems: Decodable {
    var data: [NodeItem]
}

@Suite(.serialized, .timeLimit(.minutes(5))) struct ServerCommandTests {
    @Test func childrenFollowTheSettingComeBackAfterKillAndStopOnSIGTERM() async throws {
        let scratch = try ScratchDirectory()
        let directory = scratch.path + "/data"
        let port = Int(freeTCPPort())
        let v1Port = Int(freeTCPPort())
        let v2Port = Int(freeTCPPort())
        let base = firstOfFreeTCPPorts(70)
        let server = try Daemon(
            [
                "server", "--data-dir", directory, "--port", "\(port)", "--v1-instance-manager-port", "\(v1Port)",
                "--v2-instance-manager-port", "\(v2Port)", "--v1-process-ports", "\(base)-\(base + 9)",
                "--v2-instance-ports", "\(base + 10)-\(base + 19)",
            ],
            errorPath: scratch.path + "/server.err")
        let client = try ManagerClient(server: "http://127.0.0.1:\(port)")
        let tgtSocket = directory + "/tgt/spdk.sock"

        // The manager and the V1 instance manager; no V2 processes while the setting is false.
        #expect(
            try await eventually("the manager answers") { try? await settingValue(client, "v2-data-engine") } == "false"
        )
        _ = try await eventually("the V1 instance manager serves") { await healthServing(port: v1Port) ? true : nil }
        #expect(recordedChildren(directory)["tgt"] == nil)

        // v2-data-engine=true: a tgt (its socket answers), then the V2 instance manager.
        try await setSetting(client, "v2-data-engine-hugepage-limit", "64")
        try await setSetting(client, "v2-data-engine", "true")
        _ = try await eventually("the tgt answers") { await tgtAnswers(tgtSocket) ? true : nil }
        _ = try await eventually("the V2 instance manager serves") {
            await healthServing(port: v2Port + 4) ? true : nil
        }
        let tgtLog = try String(contentsOfFile: directory + "/logs/tgt.log", encoding: .utf8)
        #expect(!tgtLog.isEmpty)

        // kill -9 each child in turn: it comes back with a new pid and answers again.
        let answers: [(String, () async -> Bool)] = [
            ("manager", { (try? await settingValue(client, "v2-data-engine")) == "true" }),
            ("instance-manager-v1", { await healthServing(port: v1Port) }),
            ("tgt", { await tgtAnswers(tgtSocket) }),
            ("instance-manager-v2", { await healthServing(port: v2Port + 4) }),
        ]
        for (name, answering) in answers {
            let old = try #require(recordedChildren(directory)[name], "\(name) is recorded")
            kill(old, SIGKILL)
            let new = try await eventually("\(name) restarted") { () -> Int32? in
                guard let pid = recordedChildren(directory)[name], pid != old else { return nil }
                return pid
            }
            #expect(new != old)
            _ = try await eventually("\(name) answers again") { await answering() ? true : nil }
            // The node's state converges again: both instance managers running, the node Ready.
            _ = try await eventually("the node converges after \(name) was killed") { () -> Bool? in
                let managers = try JSONSerialization.jsonObject(with: try await client.get("/v1/instancemanagers"))
                let states = ((managers as? [String: Any])?["data"] as? [[String: Any]] ?? []).compactMap {
                    $0["currentState"] as? String
                }
                let node = try JSONDecoder().decode(
                    NodeListItems.self, from: try await client.get("/v1/nodes")).data.first
                return states.count == 2 && states.allSatisfy { $0 == "running" }
                    && node?.conditions["Ready"]?.status == "True" ? true : nil
            }
        }
        #expect(server.isRunning)

        // false: both V2 processes stop.
        let v2Children = recordedChildren(directory)
        try await setSetting(client, "v2-data-engine", "false")
        _ = try await eventually("the V2 processes stopped") { () -> Bool? in
            let children = recordedChildren(directory)
            return children["tgt"] == nil && children["instance-manager-v2"] == nil ? true : nil
        }
        for name in ["tgt", "instance-manager-v2"] {
            if let pid = v2Children[name] { #expect(!isAlive(pid), "\(name) still runs") }
        }
        #expect(!(await tgtAnswers(tgtSocket)))
        #expect(!(await healthServing(port: v2Port + 4)))

        // SIGTERM: every child stops, then the server.
        let last = recordedChildren(directory)
        #expect(Set(last.keys) == ["manager", "instance-manager-v1"])
        server.stop(SIGTERM)
        #expect(server.process.terminationStatus == 0, "\(server.errors)")
        for (name, pid) in last { #expect(!isAlive(pid), "\(name) (pid \(pid)) left running") }
        #expect(recordedChildren(directory).isEmpty)
    }

    /// `--api-token-file`: the manager's API refuses requests without the token; the CLI sends
    /// it from `--api-token-file` or $HORNBILL_API_TOKEN_FILE; the server's own setting follower
    /// carries it too (the tgt starts when v2-data-engine is turned on).
    @Test func aTokenFileProtectsTheAPIAndTheServerAndTheCLIUseIt() async throws {
        let scratch = try ScratchDirectory()
        let directory = scratch.path + "/data"
        let tokenPath = scratch.path + "/token"
        FileManager.default.createFile(atPath: tokenPath, contents: Data("s3cret-token\n".utf8))
        let port = Int(freeTCPPort())
        let base = firstOfFreeTCPPorts(70)
        let server = try Daemon(
            [
                "server", "--data-dir", directory, "--port", "\(port)", "--v1-instance-manager-port", "\(freeTCPPort())",
                "--v2-instance-manager-port", "\(freeTCPPort())", "--v1-process-ports", "\(base)-\(base + 9)",
                "--v2-instance-ports", "\(base + 10)-\(base + 19)", "--api-token-file", tokenPath,
            ],
            errorPath: scratch.path + "/server.err")
        let api = ["--server", "http://127.0.0.1:\(port)"]
        let client = try ManagerClient(server: "http://127.0.0.1:\(port)", token: "s3cret-token")
        _ = try await eventually("the manager answers") { try? await settingValue(client, "v2-data-engine") }

        let refused = try await offThread { try hornbill(["setting", "get", "v2-data-engine"] + api) }
        #expect(refused.status != 0 && refused.errors.contains("bearer token"), "\(refused.errors)")
        #expect(refused.errors.contains("--api-token-file"), "\(refused.errors)")
        #expect(refused.errors.split(separator: "\n").count == 1, "\(refused.errors)")
        let withOption = try await offThread {
            try hornbill(["setting", "set", "v2-data-engine-hugepage-limit", "64", "--api-token-file", tokenPath] + api)
        }
        #expect(withOption.status == 0, "\(withOption.errors)")
        let withEnvironment = try await offThread {
            try hornbill(
                ["setting", "set", "v2-data-engine", "true"] + api, environment: ["HORNBILL_API_TOKEN_FILE": tokenPath])
        }
        #expect(withEnvironment.status == 0, "\(withEnvironment.errors)")
        _ = try await eventually("the tgt answers") { await tgtAnswers(directory + "/tgt/spdk.sock") ? true : nil }
        let unreadable = try await offThread {
            try hornbill(["setting", "get", "v2-data-engine", "--api-token-file", scratch.path + "/missing"] + api)
        }
        #expect(unreadable.status != 0 && unreadable.errors.contains("cannot read it"), "\(unreadable.errors)")
        let unreadableFromEnvironment = try await offThread {
            try hornbill(
                ["setting", "get", "v2-data-engine"] + api,
                environment: ["HORNBILL_API_TOKEN_FILE": scratch.path + "/missing"])
        }
        #expect(
            unreadableFromEnvironment.status != 0
                && unreadableFromEnvironment.errors.contains("$HORNBILL_API_TOKEN_FILE \(scratch.path)/missing: cannot read it"),
            "\(unreadableFromEnvironment.errors)")

        server.stop(SIGTERM)
        #expect(server.process.terminationStatus == 0, "\(server.errors)")
    }

    @Test func aRestartedServerStopsWhatAKilledOneLeft() async throws {
        let scratch = try ScratchDirectory()
        let directory = scratch.path + "/data"
        let port = Int(freeTCPPort())
        // The server holds back the twenty ports above its V2 instance ports.
        let base = firstOfFreeTCPPorts(40)
        let arguments = [
            "server", "--data-dir", directory, "--port", "\(port)", "--v1-instance-manager-port", "\(freeTCPPort())",
            "--v2-instance-manager-port", "\(freeTCPPort())", "--v1-process-ports", "\(base)-\(base + 9)",
            "--v2-instance-ports", "\(base + 10)-\(base + 19)",
        ]
        let first = try Daemon(arguments, errorPath: scratch.path + "/first.err")
        let left = try await eventually("both children recorded") { () -> [String: Int32]? in
            let children = recordedChildren(directory)
            return children.count == 2 ? children : nil
        }
        first.stop(SIGKILL)
        for pid in left.values { #expect(isAlive(pid)) }

        let second = try Daemon(arguments, errorPath: scratch.path + "/second.err")
        let client = try ManagerClient(server: "http://127.0.0.1:\(port)")
        _ = try await eventually("the new manager answers") { try? await settingValue(client, "v2-data-engine") }
        // SIGKILL is sent before the new children start; a process takes a moment to end.
        for (name, pid) in left {
            _ = try await eventually("\(name) (pid \(pid)) of the killed server stopped", seconds: 10) {
                isAlive(pid) ? nil : true
            }
        }
        second.stop(SIGTERM)
        #expect(second.process.terminationStatus == 0, "\(second.errors)")
    }
}
