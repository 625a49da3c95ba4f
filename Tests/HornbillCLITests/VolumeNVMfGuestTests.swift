// A V2 volume of a running `hornbill server`, attached with the `nvmf` frontend, used by the Linux
// kernel's nvme-tcp initiator in the QEMU guest of scripts/linux-guest (its "pattern" mode): the
// guest connects to the volume's `nvmf://` endpoint, writes a 1 MiB pattern and reads it back. The
// volume is then detached, attached again, and the pattern read here through the new endpoint
// with the test's own NVMe/TCP host.

import BlockCore
import BlockDevices
import Foundation
import Glibc
import ManagerClient
import NVMeTCP
import TestSupport
import Testing

/// A `hornbill server` for one node with V2 on, and the CLI pointed at it.
private final class V2Node: @unchecked Sendable {
    let directory: String
    let server: HornbillProcess
    let api: [String]

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "hornbill-nvmf-node-\(getpid())-\(UUID().uuidString.prefix(8))"
        ).path
        let port = freeTCPPort()
        // Below the kernel's ephemeral range (a port there can be any test's client socket), with
        // room for the ports the server holds back above the V2 instance ports.
        let base = firstOfFreeTCPPorts(70)
        server = try HornbillProcess([
            "server", "--data-dir", directory, "--node-name", "node-a", "--address", "127.0.0.1", "--port", "\(port)",
            "--v1-instance-manager-port", "\(freeTCPPort())", "--v2-instance-manager-port", "\(freeTCPPort())",
            "--v1-process-ports", "\(base)-\(base + 9)", "--v2-instance-ports", "\(base + 10)-\(base + 29)",
        ])
        api = ["--server", "http://127.0.0.1:\(port)"]
    }

    func cli(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["HORNBILL_SERVER"] = nil
        return try runToExit(builtProduct("hornbill"), arguments + api, environment: environment, errorsWithOutput: false)
    }

    func volume(_ name: String) throws -> VolumeItem? {
        let result = try cli(["volume", "get", name, "--output", "json"])
        return result.status == 0 ? try JSONDecoder().decode(VolumeItem.self, from: Data(result.output.utf8)) : nil
    }

    /// Polls `body` every 200 ms until it answers a value; throws after `seconds`.
    func poll<Value>(_ what: String, seconds: Double = 60, _ body: () throws -> Value?) async throws -> Value {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let value = try? body() { return value }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("\(what) did not happen within \(seconds) s\n\(logTails())")
        throw CancellationError()
    }

    func attach(_ name: String) throws -> VolumeItem {
        let attached = try cli(["volume", "attach", name, "--node", "node-a", "--wait", "--output", "json"])
        try #require(attached.status == 0, "attach: \(attached.errors)\n\(logTails())")
        return try JSONDecoder().decode(VolumeItem.self, from: Data(attached.output.utf8))
    }

    func logTails() -> String {
        let logs = directory + "/logs"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: logs)) ?? []
        return names.sorted().map { name in
            let text = (try? String(contentsOfFile: logs + "/" + name, encoding: .utf8)) ?? ""
            return "== \(name)\n" + text.split(separator: "\n").suffix(20).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    func stop() {
        server.kill(SIGTERM)
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// `nvmf://ip:port/nqn` → (port, nqn).
private func nvmfTarget(_ endpoint: String) -> (port: UInt16, nqn: String)? {
    guard endpoint.hasPrefix("nvmf://") else { return nil }
    let rest = endpoint.dropFirst("nvmf://".count)
    guard let slash = rest.firstIndex(of: "/"), let colon = rest[..<slash].lastIndex(of: ":"),
        let port = UInt16(rest[rest.index(after: colon)..<slash])
    else { return nil }
    return (port, String(rest[rest.index(after: slash)...]))
}

private let volumeHostReactor: Reactor = {
    do { return try Reactor(name: "volume-host") } catch { fatalError("\(error)") }
}()

@Suite(.serialized, .timeLimit(.minutes(15))) struct VolumeNVMfGuestTests {
    @Test func theLinuxKernelWritesThroughAVolumesNVMfEndpointAndTheDataOutlivesADetach() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let scripts = root.appendingPathComponent("scripts/linux-guest")
        let guest = root.appendingPathComponent(".build/linux-guest").path
        let build = try runProgram([scripts.appendingPathComponent("build.sh").path, guest])
        try #require(build.status == 0, "building the Linux guest failed:\n\(build.output)")

        let node = try V2Node()
        defer { node.stop() }
        _ = try await node.poll("the manager answers") {
            try node.cli(["setting", "set", "v2-data-engine-hugepage-limit", "64"]).status == 0 ? true : nil
        }
        for (name, value) in [("v2-data-engine", "true"), ("replica-soft-anti-affinity", "true")] {
            #expect(try node.cli(["setting", "set", name, value]).status == 0)
        }
        let files = try (1...2).map { try TemporaryFile(size: 256 << 20, name: "nvmf-block-\($0)") }
        for (index, file) in files.enumerated() {
            let disk = "block-\(index + 1)"
            _ = try await node.poll("\(disk) is added once V2 runs") {
                try node.cli(["node", "disk", "add", "node-a", disk, "--path", file.path, "--type", "block"]).status == 0
                    ? true : nil
            }
        }
        let created = try node.cli([
            "volume", "create", "vol-nvmf", "--size", "64Mi", "--replicas", "2", "--data-engine", "v2", "--frontend",
            "nvmf", "--wait",
        ])
        try #require(created.status == 0, "\(created.errors)")
        _ = try await node.poll("both replicas are placed", seconds: 90) {
            try node.volume("vol-nvmf")?.conditions["Scheduled"]?.status == "True" ? true : nil
        }

        let attached = try node.attach("vol-nvmf")
        #expect(
            attached.state == "attached" && attached.robustness == "healthy",
            "\((try? node.cli(["volume", "get", "vol-nvmf"]).output) ?? "")\n\(node.logTails())")
        let target = try #require(nvmfTarget(attached.endpoint), "endpoint \(attached.endpoint)")
        let patternOffset: UInt64 = 20 << 20
        let hostNQN = "nqn.2014-08.org.nvmexpress:uuid:5b1e2c4d-9a7f-4e3b-8c6d-0f1a2b3c4d5e"
        let run = try runProgram([
            scripts.appendingPathComponent("run.sh").path, guest, String(target.port), target.nqn, hostNQN,
            String(patternOffset), "pattern",
        ])
        let failed = run.output.split(separator: "\n").filter { $0.hasPrefix("check FAILED") }
        #expect(failed.isEmpty, "\(failed.joined(separator: "\n"))")
        #expect(run.output.contains("nvme-check: PASS"), "the guest did not pass:\n\(run.output)")

        let detached = try node.cli(["volume", "detach", "vol-nvmf", "--wait"])
        #expect(detached.status == 0 && detached.output.contains(" detached "), "\(detached.errors)")
        let again = try node.attach("vol-nvmf")
        let second = try #require(nvmfTarget(again.endpoint), "endpoint \(again.endpoint)")
        #expect(second.nqn == target.nqn)

        // The guest's pattern: "hornbill-guest N" lines, N from 1, cut at 1 MiB.
        let expected = Array((1...100_000).map { "hornbill-guest \($0)\n" }.joined().utf8.prefix(1 << 20))
        let host = try await NVMeHostController.attach(
            name: "volume-host", options: .init(address: "127.0.0.1", serviceID: String(second.port), subsystemNQN: second.nqn),
            reactor: volumeHostReactor)
        let namespace = try #require(host.namespaces.first)
        let buffer = IOBuffer(byteCount: 1 << 20)
        try await namespace.makeChannel().read(buffer.vector(), offsetBlocks: patternOffset / UInt64(namespace.blockSize))
        await host.detach()
        let same = withExtendedLifetime(buffer) { Array(UnsafeRawBufferPointer(buffer.bytes)) == expected }
        #expect(same, "the volume does not hold the pattern the Linux guest wrote")

        let cleaned = try node.cli(["volume", "detach", "vol-nvmf", "--wait"])
        #expect(cleaned.status == 0, "\(cleaned.errors)")
    }
}
