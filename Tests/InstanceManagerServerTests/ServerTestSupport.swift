import GRPCCore
import GRPCNIOTransportHTTP2Posix
import InstanceManagerServer

/// Runs `servers` while `body` runs, then shuts them down gracefully and waits until they stop.
func withRunning<Result: Sendable>(
    _ servers: InstanceManagerServers,
    _ body: @Sendable ([Int]) async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask {
            try await servers.run()
            return nil
        }
        let result: Result
        do {
            result = try await body(try await servers.listeningPorts())
        } catch {
            servers.beginGracefulShutdown()
            try? await group.waitForAll()
            throw error
        }
        servers.beginGracefulShutdown()
        try await group.waitForAll()
        return result
    }
}

/// Runs `body` with a plaintext HTTP/2 client connected to 127.0.0.1:`port`.
func withClient<Result: Sendable>(
    port: Int,
    _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
) async throws -> Result {
    let transport = try HTTP2ClientTransport.Posix(
        target: .ipv4(address: "127.0.0.1", port: port),
        transportSecurity: .plaintext
    )
    return try await withGRPCClient(transport: transport) { client in
        try await body(client)
    }
}
