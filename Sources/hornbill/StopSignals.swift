import Foundation

/// SIGINT and SIGTERM, delivered to `stop` (a daemon's clean shutdown). Keep the returned sources
/// alive for as long as the signals should be handled.
func handleStopSignals(_ stop: AsyncStream<Void>.Continuation) -> [any DispatchSourceSignal] {
    for signalNumber in [SIGINT, SIGTERM] { signal(signalNumber, SIG_IGN) }
    return [SIGINT, SIGTERM].map { number in
        let source = DispatchSource.makeSignalSource(signal: number)
        source.setEventHandler { stop.yield() }
        source.resume()
        return source
    }
}
