// SPDK's JSON-RPC server (spdk.md §1.1–1.2) on a Unix stream socket: a lock file keeps a second
// server off the same path; each connection feeds its bytes to a stream splitter; every complete
// request runs as its own task and its reply is written when it finishes (completion order, not
// request order); unparseable input gets -32700 and the connection is closed; at most 64
// connections are served at once.

import Glibc
public import NIOCore
import NIOPosix
import Synchronization

/// What serves the methods.
public protocol JSONRPCMethodHandler: Sendable {
    /// The result of a request, or its error. Runs concurrently with other requests.
    func handle(_ request: JSONRPCRequest) async -> Result<JSONValue, JSONRPCError>
}

public final class JSONRPCServer: Sendable {
    public let path: String
    private let channel: any Channel
    private let lockFD: Int32
    private let connections: Connections

    final class Connections: Sendable {
        let count = Atomic<Int>(0)
    }

    /// Takes `path + ".lock"`, removes a stale socket file and listens on `path`.
    ///
    /// - Throws: `JSONRPCError`-free `ServerError` when another server holds the lock or the path
    ///   cannot be bound.
    public static func start(path: String, handler: any JSONRPCMethodHandler, group: any EventLoopGroup) async throws
        -> JSONRPCServer
    {
        let lockPath = path + ".lock"
        let lockFD = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lockFD >= 0 else { throw ServerError("cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            close(lockFD)
            throw ServerError("another process is serving \(path) (it holds \(lockPath))")
        }
        unlink(path)
        let connections = Connections()
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 512)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            JSONRPCConnectionHandler(handler: handler, connections: connections))
                    }
                }
                .bind(unixDomainSocketPath: path)
                .get()
            return JSONRPCServer(path: path, channel: channel, lockFD: lockFD, connections: connections)
        } catch {
            close(lockFD)
            throw ServerError("cannot listen on \(path): \(error)")
        }
    }

    private init(path: String, channel: any Channel, lockFD: Int32, connections: Connections) {
        self.path = path
        self.channel = channel
        self.lockFD = lockFD
        self.connections = connections
    }

    /// Connections being served now.
    public var connectionCount: Int { connections.count.load(ordering: .relaxed) }

    /// Stops listening and removes the socket and lock files. Open connections finish on their own.
    public func stop() async {
        try? await channel.close()
        unlink(path)
        unlink(path + ".lock")
        close(lockFD)
    }

    public struct ServerError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}

final class JSONRPCConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let handler: any JSONRPCMethodHandler
    private let connections: JSONRPCServer.Connections
    private var splitter = JSONStreamSplitter()
    private var counted = false
    private var failed = false

    init(handler: any JSONRPCMethodHandler, connections: JSONRPCServer.Connections) {
        self.handler = handler
        self.connections = connections
    }

    func channelActive(context: ChannelHandlerContext) {
        let now = connections.count.wrappingAdd(1, ordering: .relaxed).newValue
        counted = true
        if now > JSONRPCLimits.maxConnections { context.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted { connections.count.wrappingSubtract(1, ordering: .relaxed) }
        counted = false
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let buffer = unwrapInboundIn(data)
        splitter.append(buffer.readableBytesView)
        do {
            while let bytes = try splitter.next() {
                let value = try JSONParser.parse(bytes)
                dispatch(value, context: context)
            }
        } catch {
            // No resynchronisation point in an unframed stream: answer and hang up.
            failed = true
            write(JSONRPCResponse.error(id: nil, .parseError), to: context.channel)
            context.channel.close(promise: nil)
        }
    }

    private func dispatch(_ value: JSONValue, context: ChannelHandlerContext) {
        let channel = context.channel
        let request: JSONRPCRequest
        switch JSONRPCRequest.decode(value) {
        case .failure(let failure):
            write(JSONRPCResponse.error(id: failure.id, failure.error), to: channel)
            return
        case .success(let decoded):
            request = decoded
        }
        Self.start(request, handler: handler, channel: channel)
    }

    private static func start(_ request: JSONRPCRequest, handler: any JSONRPCMethodHandler, channel: any Channel) {
        Task { await respond(to: request, handler: handler, channel: channel) }
    }

    private static func respond(to request: JSONRPCRequest, handler: any JSONRPCMethodHandler, channel: any Channel) async {
        switch await handler.handle(request) {
        case .success(let value):
            if !request.isNotification { send(JSONRPCResponse.result(id: request.id, value), on: channel) }
        case .failure(let error):
            send(JSONRPCResponse.error(id: request.isNotification ? nil : request.id, error), on: channel)
        }
    }

    private func write(_ bytes: [UInt8], to channel: any Channel) { Self.send(bytes, on: channel) }

    private static func send(_ bytes: [UInt8], on channel: any Channel) {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(buffer, promise: nil)
    }
}
