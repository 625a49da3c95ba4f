// grpc.health.v1.Health: the serving status of each service a server carries, by its full name,
// and of the server as a whole under "".
//
// Check answers the status now, or NOT_FOUND for a name the server does not know. Watch sends the
// status now (SERVICE_UNKNOWN for an unknown name) and then every change of it, until the client
// cancels or `finishWatches()` ends every watch (done before a server shuts down, since a graceful
// shutdown waits for open calls).

public import GRPCCore
public import InstanceManagerAPI
import Synchronization

public final class HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    public typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus

    private struct State {
        var statuses: [String: Status] = [:]
        var watches: [Int: Watch] = [:]
        var nextWatchID = 0
        var finished = false
    }

    private struct Watch {
        var service: String
        var continuation: AsyncStream<Status>.Continuation
    }

    private let state = Mutex(State())

    /// A service that knows only the server as a whole ("").
    public init(overall: Status = .serving) {
        state.withLock { $0.statuses[""] = overall }
    }

    /// Sets the status of `service` ("" for the server as a whole) and tells its watchers.
    public func setStatus(_ status: Status, for service: String) {
        state.withLock { state in
            guard state.statuses[service] != status else { return }
            state.statuses[service] = status
            for watch in state.watches.values where watch.service == service {
                watch.continuation.yield(status)
            }
        }
    }

    /// The status of `service`, or nil if it is not known.
    public func status(of service: String) -> Status? {
        state.withLock { $0.statuses[service] }
    }

    /// Ends every watch now and every watch started later.
    public func finishWatches() {
        let watches = state.withLock { state in
            state.finished = true
            defer { state.watches.removeAll() }
            return Array(state.watches.values)
        }
        for watch in watches { watch.continuation.finish() }
    }

    public func check(
        request: Grpc_Health_V1_HealthCheckRequest,
        context: ServerContext
    ) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard let status = status(of: request.service) else {
            throw RPCError(code: .notFound, message: "unknown service \(request.service)")
        }
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = status
        return response
    }

    public func watch(
        request: Grpc_Health_V1_HealthCheckRequest,
        response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        let (statuses, continuation) = AsyncStream<Status>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state -> Int? in
            continuation.yield(state.statuses[request.service] ?? .serviceUnknown)
            guard !state.finished else { return nil }
            let id = state.nextWatchID
            state.nextWatchID += 1
            state.watches[id] = Watch(service: request.service, continuation: continuation)
            return id
        }
        if id == nil { continuation.finish() }
        defer {
            if let id { _ = state.withLock { $0.watches.removeValue(forKey: id) } }
        }
        for await status in statuses {
            var message = Grpc_Health_V1_HealthCheckResponse()
            message.status = status
            try await response.write(message)
        }
    }
}
