// A `hornbill server` for one node driven through the CLI, as the volume tests use it, and fio
// over a volume's NBD endpoint.

import Foundation
import Glibc
import ManagerClient
import TestSupport
import Testing

/// A running server for one node, and the CLI pointed at it.
final class NodeUnderTest: @unchecked Sendable {
    let scratch: ScratchDirectory
    let directory: String
    let api: [String]
    /// The server's arguments: a restarted server gets the same data directory and ports.
    let arguments: [String]
    private(set) var server: Daemon
    private var starts = 1

    init() throws {
        scratch = try ScratchDirectory()
        directory = scratch.path + "/data"
        let port = Int(freeTCPPort())
        let base = firstOfFreeTCPPorts(70)
        arguments = [
            "server", "--data-dir", directory, "--node-name", "node-a", "--address", "127.0.0.1",
            "--port", "\(port)", "--v1-instance-manager-port", "\(freeTCPPort())",
            "--v2-instance-manager-port", "\(freeTCPPort())", "--v1-process-ports", "\(base)-\(base + 9)",
            // A V2 replica takes 5 ports (Longhorn's count), an engine's frontend one.
            "--v2-instance-ports", "\(base + 10)-\(base + 29)",
        ]
        server = try Daemon(arguments, errorPath: scratch.path + "/server-1.err")
        api = ["--server", "http://127.0.0.1:\(port)"]
    }

    /// Ends the server with `signal` (SIGKILL leaves its children to the next server) and starts
    /// another on the same data directory and ports.
    func restart(after signal: Int32) throws {
        server.stop(signal)
        starts += 1
        server = try Daemon(arguments, errorPath: scratch.path + "/server-\(starts).err")
    }

    func cli(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try hornbill(arguments + api)
    }

    func volume(_ name: String) throws -> VolumeItem? {
        let result = try cli(["volume", "get", name, "--output", "json"])
        return result.status == 0 ? try JSONDecoder().decode(VolumeItem.self, from: Data(result.output.utf8)) : nil
    }

    func disk(_ name: String) throws -> DiskItem? {
        let result = try cli(["node", "get", "node-a", "--output", "json"])
        guard result.status == 0 else { return nil }
        return try JSONDecoder().decode(NodeItem.self, from: Data(result.output.utf8)).disks[name]
    }

    /// Attaches and waits; answers the endpoint.
    func attach(_ name: String) throws -> String {
        let attached = try cli(["volume", "attach", name, "--node", "node-a", "--wait", "--output", "json"])
        try #require(attached.status == 0, "attach: \(attached.errors)\n\(logTails(directory + "/logs"))")
        let volume = try JSONDecoder().decode(VolumeItem.self, from: Data(attached.output.utf8))
        #expect(volume.state == "attached" && volume.currentNodeID == "node-a" && volume.robustness == "healthy")
        return volume.endpoint
    }

    func detach(_ name: String) throws {
        let detached = try cli(["volume", "detach", name, "--wait"])
        #expect(detached.status == 0 && detached.output.contains(" detached "), "\(detached.errors)")
    }

    func delete(_ name: String) throws {
        let deleted = try cli(["volume", "delete", name, "--wait"])
        #expect(deleted.status == 0, "\(deleted.errors)")
        #expect(try volume(name) == nil)
    }

    func stop() { server.stop(SIGTERM) }
}

/// fio over NBD: 8 MiB written with crc32c verify headers and checked, or (verifyOnly) checked.
func fio(_ endpoint: String, verifyOnly: Bool = false) throws -> (status: Int32, output: String) {
    try runCommand(
        [
            "fio", "--name=volume", "--ioengine=nbd", "--uri=\(endpoint)", "--rw=randwrite", "--bs=4k", "--iodepth=16",
            "--size=8M", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0",
            "--randrepeat=1",
        ] + (verifyOnly ? ["--verify_only=1"] : []))
}
