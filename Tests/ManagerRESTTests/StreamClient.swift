import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging

/// A websocket client of one of the API's streams; the text messages it reads arrive on `messages`.
struct StreamClient {
    let messages: AsyncStream<String>
    let connection: Task<Void, any Error>

    /// Connects to `path` on 127.0.0.1:`port`; the connection ends with `close()` or the server.
    static func connect(port: Int, path: String, headers: HTTPFields = [:]) -> StreamClient {
        let (messages, received) = AsyncStream<String>.makeStream()
        let connection = Task {
            defer { received.finish() }
            try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)\(path)", configuration: .init(additionalHeaders: headers),
                logger: Logger(label: "stream-client")
            ) { inbound, _, _ in
                for try await message in inbound.messages(maxSize: 1 << 24) {
                    if case .text(let text) = message { received.yield(text) }
                }
            }
        }
        return StreamClient(messages: messages, connection: connection)
    }

    func close() { connection.cancel() }
}

/// A client that completes the websocket handshake and then reads nothing until `release()`.
struct NonReadingStreamClient {
    let connected: AsyncStream<Void>
    private let released: AsyncStream<Void>.Continuation
    let connection: Task<Void, any Error>

    static func connect(port: Int, path: String) -> NonReadingStreamClient {
        let (connected, connectedSignal) = AsyncStream<Void>.makeStream()
        let (released, releaseSignal) = AsyncStream<Void>.makeStream()
        let connection = Task {
            _ = try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)\(path)", logger: Logger(label: "non-reading-client")
            ) { _, _, _ in
                connectedSignal.yield()
                for await _ in released { break }
            }
        }
        return NonReadingStreamClient(connected: connected, released: releaseSignal, connection: connection)
    }

    func release() { released.finish() }
}
