// `hornbill instance-manager`'s command line: help, and arguments refused before anything listens.

import Foundation
import TestSupport
import Testing

/// Runs `hornbill` to its exit; the status and what it printed (stdout and stderr).
private func runHornbill(_ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await runTool([hornbillPath()] + arguments)
}

@Suite struct InstanceManagerCommandTests {
    @Test func helpNamesTheOptions() async throws {
        let help = try await runHornbill(["instance-manager", "--help"])
        #expect(help.status == 0)
        for option in ["--listen", "--spdk-enabled", "--port-range", "--spdk-port-range", "--spdk-socket", "--data-dir", "--ip"] {
            #expect(help.output.contains(option), "\(option) in \(help.output)")
        }
    }

    @Test(arguments: [
        (["--port-range", "20000-10000"], "--port-range 20000-10000"),
        (["--port-range", "10000"], "--port-range 10000"),
        (["--spdk-port-range", "0-5"], "--spdk-port-range 0-5"),
        (["--spdk-port-range", "20001-70000"], "--spdk-port-range 20001-70000"),
        (["--port-range", "10000-20000", "--spdk-port-range", "15000-25000"], "overlaps"),
        (["--listen", "0.0.0.0:65534"], "--listen"),
        (["--listen", "nowhere:8500"], "is not an IP address"),
        (["--ip", "node-1"], "--ip node-1"),
    ])
    func badArgumentsAreRefused(arguments: [String], message: String) async throws {
        let scratch = try ScratchSpace()
        let result = try await runHornbill(
            ["instance-manager", "--listen", "127.0.0.1:1", "--data-dir", scratch.path] + arguments)
        #expect(result.status != 0)
        #expect(result.output.contains(message), "\(result.output)")
    }

    @Test(.timeLimit(.minutes(1))) func aPortAlreadyTakenIsOneLineAndExitOne() async throws {
        let scratch = try ScratchSpace()
        let taken = try RawListener()
        // The instance service's port (the listen port + 3) is the one taken.
        let listen = Int(taken.port) - 3
        let result = try await runHornbill(
            ["instance-manager", "--listen", "127.0.0.1:\(listen)", "--data-dir", scratch.path])
        #expect(result.status == 1)
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 1 && lines.first?.contains("Address already in use") == true, "\(result.output)")
    }
}
