// One JSON-RPC connection: bytes → stream splitter → requests, each run as a task, replies written
// as they finish.
//
// Backpressure. A request is *in flight* from the moment it is taken out of the splitter until its
// reply has been written to the socket (or, for a notification that succeeded, until it ends). The
// connection takes a new request out of the splitter only while fewer than
// `maxRequestsInFlightPerConnection` are in flight and its queued, unwritten reply bytes are under
// NIO's high water mark (`channel.isWritable`); it asks the socket for more bytes only then too
// (reads are held in `read(context:)`). So a client that pipelines requests and never reads its
// replies stops being read: its requests wait in its own socket buffer, and this process holds at
// most one read chunk plus one unfinished request in the splitter, the requests in flight, and
// their replies. When replies drain (a write completes, the channel becomes writable again) the
// splitter is drained first and reading resumes.
//
// Disconnects. When the connection closes, the tasks of its requests still running are cancelled
// (a long-poll ends at once); their replies, if any come, are dropped.
//
// Everything here runs on the channel's event loop; request tasks come back to it with their reply.

import NIOCore
import Synchronization

final class JSONRPCConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let handler: any JSONRPCMethodHandler
    private let connections: JSONRPCServer.Connections
    private var splitter = JSONStreamSplitter()
    private var context: ChannelHandlerContext?
    private var counted = false
    /// Unparseable input was seen: the error reply is on its way and the connection closing.
    private var failed = false
    private var closed = false
    /// Requests taken from the splitter whose reply has not been written yet.
    private var inFlight = 0
    /// A read the pipeline asked for while the connection was paused.
    private var readHeld = false
    /// `resume` is running: a reply written synchronously inside it must not start another pass
    /// (one nested pass per request would grow the stack with the number of requests in a read).
    private var resuming = false
    /// Tasks of requests still running, by serial, to cancel when the connection closes.
    private var running: [UInt64: Task<Void, Never>] = [:]
    private var nextSerial: UInt64 = 0

    init(handler: any JSONRPCMethodHandler, connections: JSONRPCServer.Connections) {
        self.handler = handler
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelActive(context: ChannelHandlerContext) {
        let now = connections.count.wrappingAdd(1, ordering: .relaxed).newValue
        counted = true
        if now > JSONRPCLimits.maxConnections {
            failed = true
            context.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted { connections.count.wrappingSubtract(1, ordering: .relaxed) }
        counted = false
        closed = true
        for task in running.values { task.cancel() }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed, !closed else { return }
        splitter.append(unwrapInboundIn(data).readableBytesView)
        resume(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { resume(context: context) }
        context.fireChannelWritabilityChanged()
    }

    /// The pipeline asks for more bytes (after each read, with autoRead): held while paused.
    func read(context: ChannelHandlerContext) {
        if mayTakeMore(context) {
            context.read()
        } else {
            readHeld = true
        }
    }

    private func mayTakeMore(_ context: ChannelHandlerContext) -> Bool {
        !failed && !closed && inFlight < JSONRPCLimits.maxRequestsInFlightPerConnection && context.channel.isWritable
    }

    /// Starts the requests the splitter holds, as many as the bounds allow.
    private func takeRequests(context: ChannelHandlerContext) {
        do {
            while mayTakeMore(context), let bytes = try splitter.next() {
                dispatch(try JSONParser.parse(bytes), context: context)
            }
        } catch {
            // No resynchronisation point in an unframed stream: answer and hang up.
            failed = true
            splitter = JSONStreamSplitter()
            inFlight += 1
            write(JSONRPCResponse.error(id: nil, .parseError), context: context)
            context.close(promise: nil)
        }
    }

    /// Takes waiting requests and reads again when the bounds allow.
    private func resume(context: ChannelHandlerContext) {
        // The pass already running re-checks the bounds before each request it takes.
        guard !resuming else { return }
        resuming = true
        defer { resuming = false }
        takeRequests(context: context)
        if readHeld, mayTakeMore(context) {
            readHeld = false
            context.read()
        }
    }

    private func dispatch(_ value: JSONValue, context: ChannelHandlerContext) {
        inFlight += 1
        switch JSONRPCRequest.decode(value) {
        case .failure(let failure):
            write(JSONRPCResponse.error(id: failure.id, failure.error), context: context)
        case .success(let request):
            let serial = nextSerial
            nextSerial += 1
            running[serial] = Self.start(
                request, serial: serial, handler: handler, connection: NIOLoopBound(self, eventLoop: context.eventLoop))
        }
    }

    /// Runs a request as a task of its own; its reply comes back to the connection's event loop.
    private static func start(
        _ request: JSONRPCRequest, serial: UInt64, handler: any JSONRPCMethodHandler,
        connection: NIOLoopBound<JSONRPCConnectionHandler>
    ) -> Task<Void, Never> {
        Task {
            let reply = await respond(to: request, handler: handler)
            connection.eventLoop.execute { connection.value.finished(serial, reply: reply) }
        }
    }

    /// The reply bytes for a request (nil for a notification that succeeded).
    private static func respond(to request: JSONRPCRequest, handler: any JSONRPCMethodHandler) async -> [UInt8]? {
        switch await handler.handle(request) {
        case .success(let value):
            return request.isNotification ? nil : JSONRPCResponse.result(id: request.id, value)
        case .failure(let error):
            return JSONRPCResponse.error(id: request.isNotification ? nil : request.id, error)
        }
    }

    private func finished(_ serial: UInt64, reply: [UInt8]?) {
        running[serial] = nil
        guard let context, !closed, let reply else {
            replyDone()
            return
        }
        write(reply, context: context)
    }

    /// Writes one reply of a request in flight; the request leaves flight when it is written.
    private func write(_ bytes: [UInt8], context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        let promise = context.eventLoop.makePromise(of: Void.self)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { _ in bound.value.replyDone() }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: promise)
    }

    private func replyDone() {
        inFlight -= 1
        if let context { resume(context: context) }
    }
}
