// SPDK's JSON-RPC server (spdk.md §1.1–1.2) on a Unix stream socket: a lock file keeps a second
// server off the same path; each connection feeds its bytes to a stream splitter; every complete
// request runs as its own task and its reply is written when it finishes (completion order, not
// request order); unparseable input gets -32700 and the connection is closed; at most 64
// connections are served at once (the 65th is accepted and closed at once, as SPDK does).
// What one connection may queue is bounded; see JSONRPCConnectionHandler.swift.

import Glibc
public import NIOCore
import NIOPosix
import Synchronization

/// What serves the methods.
public protocol JSONRPCMethodHandler: Sendable {
    /// The result of a request, or its error. Runs concurrently with other requests. When the
    /// request's connection closes before it ends, its task is cancelled: a handler that waits
    /// should stop waiting then; one that changes state should finish what it started.
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
                .childChannelOption(
                    ChannelOptions.writeBufferWaterMark,
                    value: .init(
                        low: JSONRPCLimits.resumeQueuedReplyBytesPerConnection,
                        high: JSONRPCLimits.maxQueuedReplyBytesPerConnection))
                .childChannelOption(
                    ChannelOptions.recvAllocator,
                    value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: JSONRPCLimits.readChunkBytes))
                // One read per read event, so what a paused connection holds is one chunk at most.
                .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 1)
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
