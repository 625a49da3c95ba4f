// One client of a websocket stream.
//
// Model: the collection is rendered and sent when the client connects, then again after each
// change of the stream's kinds, at most once per period. The store's watches only mark the stream
// dirty (a buffer of one: any number of changes while a render or a send is under way collapse into
// one more render), so a client that does not read holds one message in flight and never makes a
// store writer wait. A render equal to the last one sent is not sent again.
//
// Ends when the client closes or goes away, when the store closes (its watches end), or when the
// server shuts down (the websocket layer sends the close); a failed render ends it with an error.

import Foundation
import HummingbirdWebSocket
import Logging
import ManagerModel

struct APIStreamConnection: Sendable {
    let stream: APIStream
    let links: APILinks
    let period: Duration

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) async throws {
        let store = stream.store
        let revision = try await store.revision()
        var watches: [AsyncThrowingStream<ResourceEvent, any Error>] = []
        for kind in stream.kinds {
            watches.append(try await store.watch(kind, selector: .everything, after: revision))
        }
        let (changes, changed) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The client sends nothing but control frames: reading only tells when it closes.
            group.addTask {
                for try await _ in inbound {}
            }
            for watch in watches {
                group.addTask {
                    for try await _ in watch { changed.yield() }
                    logger.debug("stream \(stream.name): the store's watch ended")
                }
            }
            group.addTask {
                try await send(changes: changes, outbound: outbound)
            }
            // Whichever ends first ends the connection.
            try await group.next()
            group.cancelAll()
        }
        changed.finish()
    }

    private func send(changes: AsyncStream<Void>, outbound: WebSocketOutboundWriter) async throws {
        let clock = ContinuousClock()
        var lastSent = try await render()
        try await outbound.writeTextMessage(String(decoding: lastSent, as: UTF8.self))
        var lastSentAt = clock.now
        for await _ in changes {
            try await clock.sleep(until: lastSentAt.advanced(by: period))
            let current = try await render()
            guard current != lastSent else { continue }
            try await outbound.writeTextMessage(String(decoding: current, as: UTF8.self))
            lastSent = current
            lastSentAt = clock.now
        }
    }

    private func render() async throws(APIError) -> Data {
        try await stream.render(links)
    }
}
