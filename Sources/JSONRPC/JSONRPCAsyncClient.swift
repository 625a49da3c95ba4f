// An async JSON-RPC client over a Unix socket (SwiftNIO) for callers on the cooperative pool,
// such as the instance manager talking to `hornbill tgt`. Requests are pipelined on one
// connection and matched to replies by id; every call is bounded by a timeout; a connection that
// closes (the server restarted) fails the calls in flight with `.unavailable` and the next call
// connects again.

import NIOCore
import NIOPosix

/// Why a call failed.
public enum JSONRPCCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered with an error: its code and message, as sent.
    case server(JSONRPCError)
    /// The server could not be reached, or the connection closed before the reply.
    case unavailable(String)
    /// No reply within the call's timeout (the request may still take effect).
    case timedOut(String)
    /// A reply that is not JSON-RPC.
    case malformedReply(String)

    public var description: String {
        switch self {
        case .server(let error): return "\(error.message) (code \(error.code))"
        case .unavailable(let reason): return reason
        case .timedOut(let reason): return reason
        case .malformedReply(let reason): return reason
        }
    }
}

public actor JSONRPCAsyncClient {
    public nonisolated let path: String
    /// The bound of a call without its own timeout.
    public nonisolated let defaultTimeout: Duration
    private let group: any EventLoopGroup
    private var connection: JSONRPCClientConnection?
    private var connecting: Task<JSONRPCClientConnection, any Error>?
    private var nextID = 1

    /// A client of the server listening on `path` (it connects on the first call), on NIO's
    /// shared event loops.
    public init(path: String, defaultTimeout: Duration = .seconds(30)) {
        self.path = path
        self.defaultTimeout = defaultTimeout
        self.group = MultiThreadedEventLoopGroup.singleton
    }

    /// Calls `method` and returns its `result`.
    public func call(
        _ method: String, params: JSONValue? = nil, timeout: Duration? = nil
    ) async throws(JSONRPCCallError) -> JSONValue {
        let bound = timeout ?? defaultTimeout
        let connection = try await connected(within: bound)
        let id = nextID
        nextID += 1
        var members: [(key: String, value: JSONValue)] = [
            ("jsonrpc", .string("2.0")), ("method", .string(method)), ("id", .integer(id)),
        ]
        if let params { members.append(("params", params)) }
        var bytes = JSONValue.object(members).encoded()
        bytes.append(0x0A)
        let reply: JSONValue
        do {
            reply = try await connection.send(bytes, id: id, timeout: bound, method: method).get()
        } catch let error as JSONRPCCallError {
            throw error
        } catch {
            throw .unavailable("\(method): \(error)")
        }
        if let error = reply["error"] {
            guard case .number(let codeText)? = error["code"], let code = Int32(codeText),
                case .string(let message)? = error["message"]
            else { throw .malformedReply("\(method): malformed error reply") }
            throw .server(JSONRPCError(code: code, message: message))
        }
        guard let result = reply["result"] else { throw .malformedReply("\(method): reply without a result") }
        return result
    }

    /// Closes the connection; calls in flight fail with `.unavailable`, later calls reconnect.
    public func close() async {
        connecting?.cancel()
        connecting = nil
        if let connection {
            self.connection = nil
            try? await connection.channel.close()
        }
    }

    private func connected(within bound: Duration) async throws(JSONRPCCallError) -> JSONRPCClientConnection {
        if let connection, connection.channel.isActive { return connection }
        connection = nil
        let task: Task<JSONRPCClientConnection, any Error>
        if let connecting {
            task = connecting
        } else {
            let path = self.path
            let group = self.group
            let milliseconds = max(
                1, Int64(bound.components.seconds * 1000 + bound.components.attoseconds / 1_000_000_000_000_000))
            task = Task {
                try await JSONRPCClientConnection.open(path: path, group: group, timeout: .milliseconds(milliseconds))
            }
            connecting = task
        }
        do {
            let opened = try await task.value
            if connecting == task { connecting = nil }
            connection = opened
            return opened
        } catch {
            if connecting == task { connecting = nil }
            throw .unavailable("cannot connect to \(path): \(error)")
        }
    }
}

/// One open connection and the replies it waits for.
final class JSONRPCClientConnection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<JSONRPCReplyHandler>

    private init(channel: any Channel, handler: NIOLoopBound<JSONRPCReplyHandler>) {
        self.channel = channel
        self.handler = handler
    }

    static func open(
        path: String, group: any EventLoopGroup, timeout: TimeAmount
    ) async throws -> JSONRPCClientConnection {
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(JSONRPCReplyHandler())
                }
            }
            .connect(unixDomainSocketPath: path).get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(
                try channel.pipeline.syncOperations.handler(type: JSONRPCReplyHandler.self),
                eventLoop: channel.eventLoop)
        }.get()
        return JSONRPCClientConnection(channel: channel, handler: handler)
    }

    /// Writes a request and returns the future of its reply (the whole reply object).
    func send(_ bytes: [UInt8], id: Int, timeout: Duration, method: String) -> EventLoopFuture<JSONValue> {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: JSONValue.self)
        let channel = self.channel
        let handler = self.handler
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        loop.execute {
            guard channel.isActive else {
                promise.fail(JSONRPCCallError.unavailable("\(method): the connection is closed"))
                return
            }
            handler.value.pending[id] = promise
            let timer = loop.scheduleTask(in: .nanoseconds(nanoseconds)) {
                handler.value.pending.removeValue(forKey: id)?.fail(
                    JSONRPCCallError.timedOut("\(method): no reply within \(timeout)"))
            }
            promise.futureResult.whenComplete { _ in timer.cancel() }
            channel.writeAndFlush(ByteBuffer(bytes: bytes)).whenFailure { error in
                handler.value.pending.removeValue(forKey: id)?.fail(JSONRPCCallError.unavailable("\(method): \(error)"))
            }
        }
        return promise.futureResult
    }
}

/// Splits the byte stream into replies and completes the waiting call of each id. Lives on its
/// channel's event loop.
final class JSONRPCReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    var pending: [Int: EventLoopPromise<JSONValue>] = [:]
    private var splitter = JSONStreamSplitter(maxValueBytes: JSONRPCLimits.maxResponseBytes)

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        splitter.append(buffer.readableBytesView)
        do {
            while let bytes = try splitter.next() {
                let reply = try JSONParser.parse(bytes, maxValues: JSONRPCLimits.maxResponseBytes)
                guard case .number(let idText)? = reply["id"], let id = Int(idText) else { continue }
                pending.removeValue(forKey: id)?.succeed(reply)
            }
        } catch {
            // No resynchronisation point in an unframed stream: drop the connection.
            failAll(.malformedReply("unparseable reply: \(error)"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.unavailable("the server closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(.unavailable("connection error: \(error)"))
        context.close(promise: nil)
    }

    private func failAll(_ error: JSONRPCCallError) {
        let waiting = pending
        pending.removeAll()
        for promise in waiting.values { promise.fail(error) }
    }
}
