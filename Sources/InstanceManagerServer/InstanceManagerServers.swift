// The instance manager's gRPC servers: one HTTP/2 server (NIO posix transport, plaintext) per
// endpoint, each carrying the services it is given plus grpc.health.v1.Health and server
// reflection (v1 and v1alpha) for exactly those services.
//
// Lifecycle: `run()` serves every endpoint until `beginGracefulShutdown()` (or until one server
// fails, which shuts the others down and rethrows). A graceful shutdown first marks every service
// NOT_SERVING and ends the health watches, since those streams would otherwise hold the server
// open, then stops accepting calls and waits for the calls under way. A transport told to stop
// before it has bound would bind afterwards and serve on, so each server is told only once its
// transport has bound (or failed to).

public import GRPCCore
import GRPCNIOTransportHTTP2Posix
public import InstanceManagerAPI
import Synchronization

/// One server: an address to listen on and the services it carries.
public struct InstanceManagerEndpoint: Sendable {
    /// An IPv4 or IPv6 address, e.g. "0.0.0.0" or "::1".
    public var host: String
    /// The port; 0 takes a free one (see `InstanceManagerServers.listeningPorts()`).
    public var port: Int
    /// The services besides health and reflection; their methods must not overlap.
    public var services: [any RegistrableRPCService]

    public init(host: String, port: Int, services: [any RegistrableRPCService]) {
        self.host = host
        self.port = port
        self.services = services
    }

    /// Endpoints on consecutive ports from `port`, one per list of services, in order (see
    /// `InstanceManagerPorts` for which service goes at which offset).
    public static func consecutive(
        host: String,
        fromPort port: Int,
        services: [[any RegistrableRPCService]]
    ) -> [InstanceManagerEndpoint] {
        services.enumerated().map { offset, services in
            InstanceManagerEndpoint(host: host, port: port + offset, services: services)
        }
    }
}

/// A bad endpoint list, found before anything listens.
public struct InstanceManagerServersError: Error, CustomStringConvertible, Equatable {
    public var description: String
}

public final class InstanceManagerServers: Sendable {
    /// One running server and what it carries.
    private struct Server: Sendable {
        var grpc: GRPCServer<HTTP2ServerTransport.Posix>
        var transport: HTTP2ServerTransport.Posix
        var health: HealthService
        var serviceNames: [String]
        /// "host:port" as given, for errors.
        var address: String
    }

    private let servers: [Server]
    private let started = Mutex(false)
    /// Yields once `beginGracefulShutdown()` is called; `run()` then stops each server.
    private let shutdownRequests: AsyncStream<Void>
    private let shutdownRequester: AsyncStream<Void>.Continuation

    /// Keepalive pings clients may send, per Longhorn's servers: one every 10 s at most, with or
    /// without calls under way.
    public static let minimumClientPingInterval: Duration = .seconds(10)

    /// Prepares one server per endpoint; nothing listens before `run()`.
    public init(endpoints: [InstanceManagerEndpoint], reflection: ReflectionIndex) throws {
        guard !endpoints.isEmpty else {
            throw InstanceManagerServersError(description: "no endpoints to serve")
        }
        servers = try endpoints.map { endpoint in
            try Self.makeServer(endpoint, reflection: reflection)
        }
        (shutdownRequests, shutdownRequester) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Serves every endpoint until `beginGracefulShutdown()`; rethrows the first server failure
    /// after shutting the other servers down. Call once.
    public func run() async throws {
        let alreadyStarted = started.withLock { started in
            defer { started = true }
            return started
        }
        guard !alreadyStarted else {
            throw InstanceManagerServersError(description: "the instance manager servers were already run")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for server in servers {
                group.addTask {
                    do {
                        try await server.grpc.serve()
                    } catch let error as RuntimeError {
                        // The transport's own error (a bind that failed) says what went wrong.
                        throw InstanceManagerServersError(
                            description: "cannot serve on \(server.address): \(error.cause.map { "\($0)" } ?? error.message)")
                    }
                }
            }
            group.addTask { [servers, shutdownRequests] in
                for await _ in shutdownRequests { break }
                for server in servers {
                    if !Task.isCancelled {
                        _ = try? await server.transport.listeningAddress
                    }
                    server.grpc.beginGracefulShutdown()
                }
            }
            do {
                // `next()`, not `waitForAll()`: the latter rethrows only once every task has
                // ended, and the servers that did bind would serve on.
                while try await group.next() != nil {}
            } catch {
                // One server failed: the others stop now, without waiting for their calls.
                beginGracefulShutdown()
                group.cancelAll()
                try? await group.waitForAll()
                throw error
            }
        }
    }

    /// The bound port of each endpoint, in the order given; waits until each server listens and
    /// throws if one cannot.
    public func listeningPorts() async throws -> [Int] {
        var ports: [Int] = []
        for server in servers {
            let address = try await server.transport.listeningAddress
            if let ipv4 = address.ipv4 {
                ports.append(ipv4.port)
            } else if let ipv6 = address.ipv6 {
                ports.append(ipv6.port)
            } else {
                throw InstanceManagerServersError(description: "server bound to a non-IP address \(address)")
            }
        }
        return ports
    }

    /// The full names of the services each endpoint carries (health and reflection included), in
    /// the order given.
    public var serviceNames: [[String]] {
        servers.map(\.serviceNames)
    }

    /// Sets the health status of `service` ("" for the server as a whole) on every server that
    /// carries it.
    public func setHealth(_ status: HealthService.Status, for service: String) {
        for server in servers where service.isEmpty || server.serviceNames.contains(service) {
            server.health.setStatus(status, for: service)
        }
    }

    /// Stops accepting calls; `run()` returns once the calls under way have finished.
    public func beginGracefulShutdown() {
        for server in servers {
            for name in server.serviceNames {
                server.health.setStatus(.notServing, for: name)
            }
            server.health.setStatus(.notServing, for: "")
            server.health.finishWatches()
        }
        shutdownRequester.yield()
    }

    private static func makeServer(_ endpoint: InstanceManagerEndpoint, reflection: ReflectionIndex) throws -> Server {
        guard (0...65535).contains(endpoint.port) else {
            throw InstanceManagerServersError(description: "port \(endpoint.port) is out of range")
        }
        let address: GRPCNIOTransportCore.SocketAddress =
            endpoint.host.contains(":")
            ? .ipv6(host: endpoint.host, port: endpoint.port)
            : .ipv4(host: endpoint.host, port: endpoint.port)
        let transport = HTTP2ServerTransport.Posix(
            address: address,
            transportSecurity: .plaintext,
            config: .defaults { config in
                config.connection.keepalive.clientBehavior = .init(
                    minPingIntervalWithoutCalls: minimumClientPingInterval,
                    allowWithoutCalls: true
                )
            }
        )

        // Reflection lists every service the server carries, itself included, so the names are
        // found first with reflection services that answer nothing; this also refuses a given
        // service that repeats a built-in method.
        let health = HealthService()
        let nameless = ReflectionResponder(index: reflection, serviceNames: [])
        let names = try serviceNames(
            of: endpoint.services + [
                health, ReflectionServiceV1(responder: nameless), ReflectionServiceV1Alpha(responder: nameless),
            ]
        )
        for name in names {
            health.setStatus(.serving, for: name)
        }
        let responder = ReflectionResponder(index: reflection, serviceNames: names)
        let services: [any RegistrableRPCService] =
            endpoint.services + [
                health,
                ReflectionServiceV1(responder: responder),
                ReflectionServiceV1Alpha(responder: responder),
            ]

        var router = RPCRouter<HTTP2ServerTransport.Posix>()
        for service in services {
            service.registerMethods(with: &router)
        }
        let server = GRPCServer(transport: transport, router: router)
        let shown = endpoint.host.contains(":") ? "[\(endpoint.host)]:\(endpoint.port)" : "\(endpoint.host):\(endpoint.port)"
        return Server(grpc: server, transport: transport, health: health, serviceNames: names, address: shown)
    }

    /// The full names of the services `services` register, in order, each once; throws if two
    /// register the same method.
    private static func serviceNames(of services: [any RegistrableRPCService]) throws -> [String] {
        var names: [String] = []
        var methods: Set<MethodDescriptor> = []
        for service in services {
            var router = RPCRouter<HTTP2ServerTransport.Posix>()
            service.registerMethods(with: &router)
            for method in router.methods {
                guard methods.insert(method).inserted else {
                    throw InstanceManagerServersError(
                        description: "method /\(method.fullyQualifiedMethod) is registered twice")
                }
                let name = method.service.fullyQualifiedService
                if !names.contains(name) { names.append(name) }
            }
        }
        return names
    }
}
