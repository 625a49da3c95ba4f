// The instance manager's operating errors. Each carries the gRPC status code the service layer
// answers with (Longhorn's clients act on the code, and on "cannot find" in NotFound messages)
// and a message for the operator.

public struct InstanceManagerError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// An unknown name; the message contains "cannot find".
        case notFound
        /// A malformed or contradictory request; nothing was changed.
        case invalidArgument
        /// The name is taken.
        case alreadyExists
        /// The request is valid but the state does not allow it now (a disk still in use, …).
        case failedPrecondition
        /// Not offered for this data engine or instance type.
        case unimplemented
        /// Out of a resource (ports).
        case resourceExhausted
        /// The data plane failed: a JSON-RPC error of the `tgt` (its message kept), a process
        /// that could not start.
        case internalError
        /// The `tgt` or a process could not be reached.
        case unavailable
    }

    public var code: Code
    public var message: String
    /// The tgt's JSON-RPC error code, when the tgt refused a call.
    public var tgtCode: Int32?
    public var description: String { message }

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func notFound(_ what: String) -> InstanceManagerError {
        InstanceManagerError(.notFound, "cannot find \(what)")
    }

    public static func invalidArgument(_ message: String) -> InstanceManagerError {
        InstanceManagerError(.invalidArgument, message)
    }
}
