// What the service tests share: one server carrying the given services on a free loopback port,
// a client to it, the status a failing call ends with, and the build the version RPCs report.

import GRPCCore
import GRPCNIOTransportHTTP2Posix
import InstanceManagerServer

let testBuild = InstanceManagerBuild(version: "v0.0.0-test", gitCommit: "0123456", buildDate: "2026-01-01T00:00:00Z")

/// Serves `services` on 127.0.0.1 (a free port) while `body` runs with a client to it.
func withServices<Result: Sendable>(
    _ services: [any RegistrableRPCService],
    _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
) async throws -> Result {
    let servers = try InstanceManagerServers(
        endpoints: [InstanceManagerEndpoint(host: "127.0.0.1", port: 0, services: services)],
        reflection: .instanceManager())
    return try await withRunning(servers) { ports in
        try await withClient(port: ports[0], body)
    }
}

