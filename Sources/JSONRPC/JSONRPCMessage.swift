// JSON-RPC 2.0 requests and responses as SPDK's server handles them (spdk.md §1.2): request
// validation with SPDK's error codes, responses with members in the order `jsonrpc`, `id`,
// `result`/`error`, compact, one per line.

/// An error reply: a code and a message (SPDK sends no `data`).
public struct JSONRPCError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Int32
    public var message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    public static let parseError = JSONRPCError(code: -32700, message: "Parse error")
    public static let invalidRequest = JSONRPCError(code: -32600, message: "Invalid request")
    public static let methodNotFound = JSONRPCError(code: -32601, message: "Method not found")
    public static func invalidParams(_ message: String = "Invalid parameters") -> JSONRPCError {
        JSONRPCError(code: -32602, message: message)
    }
    public static func internalError(_ message: String = "Internal error") -> JSONRPCError {
        JSONRPCError(code: -32603, message: message)
    }
}

public struct JSONRPCRequest: Sendable, Equatable {
    /// The id as sent (number, string or null); nil when absent.
    public var id: JSONValue?
    public var method: String
    /// The params; nil when absent or `null`.
    public var params: JSONValue?

    /// A notification (no id, or a null id) gets no reply on success.
    public var isNotification: Bool { id == nil || id == .null }

    /// Validates a parsed request. On failure returns the error and the id to reply with.
    public static func decode(_ value: JSONValue) -> Result<JSONRPCRequest, RequestFailure> {
        guard case .object(let members) = value else {
            return .failure(RequestFailure(id: nil, error: .invalidRequest))
        }
        var id: JSONValue?
        var method: String?
        var params: JSONValue?
        var seen = Set<String>()
        for (key, member) in members {
            guard seen.insert(key).inserted else { return .failure(RequestFailure(id: id, error: .invalidRequest)) }
            switch key {
            case "id":
                switch member {
                case .number, .string, .null: id = member
                default: return .failure(RequestFailure(id: nil, error: .invalidRequest))
                }
            case "jsonrpc":
                guard member == .string("2.0") else { return .failure(RequestFailure(id: nil, error: .invalidRequest)) }
            case "method":
                guard case .string(let name) = member else { return .failure(RequestFailure(id: nil, error: .invalidRequest)) }
                method = name
            case "params":
                switch member {
                case .object, .array: params = member
                case .null: params = nil
                default: return .failure(RequestFailure(id: nil, error: .invalidRequest))
                }
            default:
                return .failure(RequestFailure(id: nil, error: .invalidRequest))
            }
        }
        // The id is known now even if it came after a bad member; reply with it.
        guard let method else { return .failure(RequestFailure(id: id, error: .invalidRequest)) }
        return .success(JSONRPCRequest(id: id, method: method, params: params))
    }

    public struct RequestFailure: Error, Sendable, Equatable {
        public var id: JSONValue?
        public var error: JSONRPCError
    }
}

public enum JSONRPCResponse {
    /// `{"jsonrpc":"2.0","id":ID,"result":RESULT}` and a newline.
    public static func result(id: JSONValue?, _ result: JSONValue) -> [UInt8] {
        envelope(id: id, member: "result", value: result)
    }

    /// `{"jsonrpc":"2.0","id":ID,"error":{"code":C,"message":M}}` and a newline.
    public static func error(id: JSONValue?, _ error: JSONRPCError) -> [UInt8] {
        envelope(
            id: id, member: "error",
            value: .object([("code", .integer(error.code)), ("message", .string(error.message))]))
    }

    private static func envelope(id: JSONValue?, member: String, value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        JSONValue.object([("jsonrpc", .string("2.0")), ("id", id ?? .null), (member, value)]).encode(into: &out)
        out.append(0x0A)
        return out
    }
}
