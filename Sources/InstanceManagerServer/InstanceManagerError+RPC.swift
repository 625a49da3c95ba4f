// The one place where the instance manager's operating errors become gRPC statuses. Longhorn's
// clients act on the code (NotFound, AlreadyExists, …) and on "cannot find" in NotFound messages,
// so the message is passed through unchanged.

public import GRPCCore
public import InstanceManager

extension InstanceManagerError {
    /// The gRPC status code for this error.
    public var rpcCode: RPCError.Code {
        switch code {
        case .notFound: .notFound
        case .invalidArgument: .invalidArgument
        case .alreadyExists: .alreadyExists
        case .failedPrecondition: .failedPrecondition
        case .unimplemented: .unimplemented
        case .resourceExhausted: .resourceExhausted
        case .internalError: .internalError
        case .unavailable: .unavailable
        }
    }

    /// This error as the status a call ends with.
    public var rpcError: RPCError { RPCError(code: rpcCode, message: message) }
}

/// Runs `body`, turning an `InstanceManagerError` into the gRPC status it stands for; any other
/// error is a server fault and ends the call as `internalError` with its description.
public func withRPCErrors<T: Sendable>(_ body: () async throws -> T) async throws(RPCError) -> T {
    do {
        return try await body()
    } catch let error as InstanceManagerError {
        throw error.rpcError
    } catch let error as RPCError {
        throw error
    } catch {
        throw RPCError(code: .internalError, message: String(describing: error))
    }
}
