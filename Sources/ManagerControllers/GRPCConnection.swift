// HTTP/2 gRPC connections to the instance managers' services. Unary calls share one long-lived
// client per address (`with`): a reconcile's calls cost a stream on an open connection, not a TCP
// and HTTP/2 handshake each. A client unused for `idleLifetime` is shut down at the next call to
// any address; a connection that breaks (the instance manager restarted) is made again by the
// client, at most `backoff.max` after it went. A stream that must end with its instance manager
// (InstanceWatch) has a connection of its own (`withOwnConnection`). Every call carries a deadline,
// so an instance manager that accepts and then hangs cannot stall a reconcile.

import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Synchronization

enum GRPCConnection {
    /// How long one call may take.
    static let callTimeout: Duration = .seconds(10)

    static var callOptions: CallOptions {
        var options = CallOptions.defaults
        options.timeout = callTimeout
        // An instance manager that is not listening fails the call at once (`unavailable`) rather
        // than holding it until the deadline.
        options.waitForReady = false
        return options
    }

    /// Runs `body` with the shared client of `host:port`.
    static func with<Result: Sendable>(
        host: String, port: Int, _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
    ) async throws -> Result {
        try await body(try GRPCClientPool.shared.client(host: host, port: port))
    }

    /// Runs `body` with a client of its own, connected to `host:port` for as long as `body` runs.
    static func withOwnConnection<Result: Sendable>(
        host: String, port: Int, _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
    ) async throws -> Result {
        let transport = try HTTP2ClientTransport.Posix(
            target: .dns(host: host, port: port), transportSecurity: .plaintext, config: transportConfig)
        return try await withGRPCClient(transport: transport) { client in try await body(client) }
    }

    /// Reconnects within a second of an instance manager coming back (the default waits up to two
    /// minutes between attempts).
    static var transportConfig: HTTP2ClientTransport.Posix.Config {
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.backoff = .init(initial: .milliseconds(100), max: .seconds(1), multiplier: 1.6, jitter: 0.2)
        return config
    }
}

/// One running client per address, shut down once unused for `idleLifetime`.
final class GRPCClientPool: Sendable {
    static let shared = GRPCClientPool()

    static let idleLifetime: Duration = .seconds(60)

    private struct Address: Hashable {
        var host: String
        var port: Int
    }

    private struct Entry {
        var client: GRPCClient<HTTP2ClientTransport.Posix>
        var lastUsed: ContinuousClock.Instant
    }

    private let entries = Mutex<[Address: Entry]>([:])

    func client(host: String, port: Int) throws -> GRPCClient<HTTP2ClientTransport.Posix> {
        let now = ContinuousClock.now
        let address = Address(host: host, port: port)
        let (client, created, idle) = try entries.withLock { entries in
            let idle = entries.filter { $0.key != address && now - $0.value.lastUsed > Self.idleLifetime }
            for key in idle.keys { entries[key] = nil }
            if var entry = entries[address] {
                entry.lastUsed = now
                entries[address] = entry
                return (entry.client, false, idle.values.map(\.client))
            }
            let transport = try HTTP2ClientTransport.Posix(
                target: .dns(host: host, port: port), transportSecurity: .plaintext,
                config: GRPCConnection.transportConfig)
            let client = GRPCClient(transport: transport)
            entries[address] = Entry(client: client, lastUsed: now)
            return (client, true, idle.values.map(\.client))
        }
        for stale in idle { stale.beginGracefulShutdown() }
        if created {
            // Calls made before the connections run are queued by the transport.
            Task.detached { try? await client.runConnections() }
        }
        return client
    }
}
