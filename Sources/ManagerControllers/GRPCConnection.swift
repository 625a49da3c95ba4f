// One plaintext HTTP/2 gRPC connection to an instance manager's service, for the length of a call
// sequence. Every call carries a deadline, so an instance manager that accepts and then hangs
// cannot stall a reconcile.

import GRPCCore
import GRPCNIOTransportHTTP2Posix

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

    /// Runs `body` with a client connected to `host:port`.
    static func with<Result: Sendable>(
        host: String, port: Int, _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
    ) async throws -> Result {
        let transport = try HTTP2ClientTransport.Posix(
            target: .dns(host: host, port: port), transportSecurity: .plaintext)
        return try await withGRPCClient(transport: transport) { client in try await body(client) }
    }
}
